import { describe, it, expect } from 'vitest';
import { at } from '../at.ts';
import { codiTimesteps, lcmTimesteps, ddimTimesteps, dpmTimeUniform, roundHalfEven } from './timesteps.ts';

describe('codiTimesteps (docs/method.md §7.1)', () => {
  it('N = 50: 1, 2, 4, 8 steps', () => {
    expect(codiTimesteps(50, 1)).toEqual([980]);
    expect(codiTimesteps(50, 2)).toEqual([980, 480]);
    expect(codiTimesteps(50, 4)).toEqual([980, 720, 460, 200]);
    expect(codiTimesteps(50, 8)).toEqual([980, 840, 700, 560, 420, 280, 140, 0]);
  });
  it('N = 20 (canny training) and the ill-defined 8-step case', () => {
    expect(codiTimesteps(20, 1)).toEqual([950]);
    expect(codiTimesteps(20, 2)).toEqual([950, 450]);
    expect(codiTimesteps(20, 4)).toEqual([950, 700, 450, 200]);
    expect(() => codiTimesteps(20, 8)).toThrow(RangeError);
  });
  it('every step count 1..8 for N = 50 is strictly descending and on the grid', () => {
    for (let n = 1; n <= 8; n++) {
      const ts = codiTimesteps(50, n);
      expect(ts).toHaveLength(n);
      expect(ts[0]).toBe(980);
      ts.forEach((t, i) => {
        expect(t % 20).toBe(0);
        if (i) expect(t).toBeLessThan(at(ts, i - 1));
      });
    }
  });
});

describe('lcmTimesteps (§7.3)', () => {
  it('matches the diffusers LCMScheduler values', () => {
    expect(lcmTimesteps(50, 1)).toEqual([999]);
    expect(lcmTimesteps(50, 2)).toEqual([999, 499]);
    expect(lcmTimesteps(50, 4)).toEqual([999, 759, 499, 259]);
    expect(lcmTimesteps(50, 8)).toEqual([999, 879, 759, 639, 499, 379, 259, 139]);
  });
});

describe('ddimTimesteps (§9.1)', () => {
  it('leading with SD offset 1 and trailing', () => {
    expect(ddimTimesteps(4, 'leading', 1000, 1)).toEqual([751, 501, 251, 1]);
    expect(ddimTimesteps(4, 'trailing')).toEqual([999, 749, 499, 249]);
    expect(ddimTimesteps(3, 'trailing')).toEqual([999, 666, 332]);
  });
  it('trailing uses numpy round-half-even: 16 steps hit 937.5 → 938 and 812.5 → 812', () => {
    const ts = ddimTimesteps(16, 'trailing');
    expect(ts.slice(0, 4)).toEqual([999, 937, 874, 811]);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(-1.5)).toBe(-2);
  });
});

describe('dpmTimeUniform (§9.2)', () => {
  it('linspace(1, 1/1000, n+1) mapped to model time', () => {
    const ts = dpmTimeUniform(4);
    expect(ts).toHaveLength(5);
    expect(ts[0]).toBe(999);
    expect(ts[1]).toBeCloseTo(749.25, 9);
    expect(ts[2]).toBeCloseTo(499.5, 9);
    expect(ts[3]).toBeCloseTo(249.75, 9);
    expect(ts[4]).toBe(0);
  });
});
