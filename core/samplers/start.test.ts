import { describe, expect, it } from 'vitest';
import { coolStart, distinctDraws, drawOf, samplerAtTemperature, scaledStart, startIsDeterministic, startTemperature } from './start.ts';

describe('start temperature', () => {
  it('defaults to the diffusion prior (τ = 1) for packs that do not say', () => {
    expect(startTemperature({})).toBe(1);
    expect(startTemperature({ temperature: 0.6 })).toBe(0.6);
  });

  it('writes a temperature into a manifest sampler, leaving the field out at the default', () => {
    expect(samplerAtTemperature({ kind: 'codi', steps: 1, temperature: 0.3 }, 1)).toEqual({ kind: 'codi', steps: 1 });
    expect(samplerAtTemperature({ kind: 'codi', steps: 1 }, 0.8)).toEqual({ kind: 'codi', steps: 1, temperature: 0.8 });
  });

  it('is deterministic only from zeros at one step, so only then one draw stands for n', () => {
    expect(startIsDeterministic(0, 1)).toBe(true);
    expect(startIsDeterministic(0, 2)).toBe(false);
    expect(startIsDeterministic(0.6, 1)).toBe(false);
    expect(distinctDraws(0, 1, 8)).toBe(1);
    expect(distinctDraws(0, 4, 8)).toBe(8);
    expect(distinctDraws(1, 1, 4)).toBe(4);
  });

  it('scales a draw in place and refuses a temperature outside [0, 1]', () => {
    expect([...coolStart(Float32Array.of(2, -4), 0.5)]).toEqual([1, -2]);
    const same = Float32Array.of(0.3);
    expect(coolStart(same, 1)).toBe(same);
    expect(same[0]).toBeCloseTo(0.3);
    expect(() => coolStart(new Float32Array(1), 1.5)).toThrow(/\[0, 1\]/);
    expect(() => coolStart(new Float32Array(1), Number.NaN)).toThrow(/\[0, 1\]/);
  });
});

describe('antithetic draws', () => {
  it('pair seeds and negate every second draw; independent draws take seed offsets 0…n−1', () => {
    expect([0, 1, 2, 3].map((k) => drawOf(k, true))).toEqual([
      { seedOffset: 0, negate: false },
      { seedOffset: 0, negate: true },
      { seedOffset: 1, negate: false },
      { seedOffset: 1, negate: true },
    ]);
    expect([0, 1, 2].map((k) => drawOf(k, false).seedOffset)).toEqual([0, 1, 2]);
    expect(() => drawOf(-1, true)).toThrow(RangeError);
  });
  it('scale a field by ±τ into a new array, exactly the negation of the cooled field', () => {
    const eps = Float32Array.of(0.3, -1.7, 2.2);
    const plus = scaledStart(eps, 0.8, false);
    const minus = scaledStart(eps, 0.8, true);
    expect(Array.from(plus)).toEqual(Array.from(coolStart(eps.slice(), 0.8)));
    expect(Array.from(minus)).toEqual(Array.from(plus, (v) => -v));
    expect(Array.from(eps)).toEqual(Array.from(Float32Array.of(0.3, -1.7, 2.2)));
  });
});
