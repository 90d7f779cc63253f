import { describe, it, expect } from 'vitest';
import { Rng } from './rng.ts';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference xoshiro128** outputs for state {1,2,3,4}', () => {
    const r = Rng.fromState({ s: [1, 2, 3, 4], spare: null });
    // by hand: first = rotl(2·5, 7)·9 = 1280·9 = 11520; then s1 becomes 0 → second = 0
    expect(r.nextU32()).toBe(11520);
    expect(r.nextU32()).toBe(0);
    // third: s = [7, 0, 1026, 12288] → s1' = 0 ^ (1026 ^ 7)=1029 → rotl(1029·5,7)·9 = 5927040
    expect(r.nextU32()).toBe(5927040);
  });
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(xa);
    expect(new Rng('abc').nextU32()).toBe(new Rng('abc').nextU32());
    expect(new Rng(2 ** 40).nextU32()).not.toBe(new Rng(0).nextU32());
  });
  it('state save/restore reproduces the stream, including a pending Box-Muller value', () => {
    const r = new Rng(7);
    r.normal(); // leaves a spare
    const st = JSON.parse(JSON.stringify(r.getState()));
    const expected = [r.normal(), r.uniform(), r.int(0, 10), r.normal()];
    const r2 = Rng.fromState(st);
    expect([r2.normal(), r2.uniform(), r2.int(0, 10), r2.normal()]).toEqual(expected);
  });
  it('fillGaussian consumes the stream exactly like repeated normal()', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    a.normal();
    b.normal();
    const filled = a.fillGaussian(new Float32Array(7));
    const single = Float32Array.from({ length: 7 }, () => b.normal());
    expect(Array.from(filled)).toEqual(Array.from(single));
    expect(a.getState()).toEqual(b.getState());
  });
  it('skipGaussians(n) leaves the stream where fillGaussian of n values would, spare or not', () => {
    for (const [lead, n] of [[0, 0], [0, 5], [1, 4], [1, 7], [3, 1000]] as const) {
      const a = new Rng(9);
      const b = new Rng(9);
      for (let k = 0; k < lead; k++) {
        a.normal();
        b.normal();
      }
      a.fillGaussian(new Float32Array(n));
      b.skipGaussians(n);
      expect(b.getState()).toEqual(a.getState());
      expect(Array.from(b.fillGaussian(new Float32Array(3)))).toEqual(Array.from(a.fillGaussian(new Float32Array(3))));
    }
    expect(() => new Rng(1).skipGaussians(-1)).toThrow(RangeError);
  });
  it('uniform, int and Gaussian moments are sane', () => {
    const r = new Rng(123);
    const n = 200_000;
    const g = r.fillGaussian(new Float32Array(n));
    let m = 0;
    for (const v of g) m += v;
    m /= n;
    let v2 = 0;
    for (const v of g) v2 += (v - m) ** 2;
    v2 /= n;
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v2 - 1)).toBeLessThan(0.02);
    const u = r.fillUniform(new Float32Array(n));
    let mu = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of u) {
      mu += x;
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(Math.abs(mu / n - 0.5)).toBeLessThan(0.005);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(-2, 4) + 2]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => r.int(3, 3)).toThrow(RangeError);
  });
  it('shuffle is a permutation', () => {
    const a = new Rng(1).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...a].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
