import { describe, it, expect } from 'vitest';
import { at } from '../at.ts';
import { defaultSchedule, makeBetas, makeSchedule, CLEAN_T } from './schedule.ts';

describe('scaled-linear schedule (docs/method.md §2)', () => {
  const s = defaultSchedule();
  const table: [number, number, number][] = [
    [0, 0.99957, 0.02915],
    [20, 0.99061, 0.1367],
    [200, 0.86815, 0.49629],
    [460, 0.57646, 0.81713],
    [720, 0.26656, 0.96382],
    [980, 0.07644, 0.99707],
    [999, 0.06826, 0.99767],
  ];
  it.each(table)('t=%i α=%f σ=%f', (t, a, sg) => {
    expect(s.alpha[t]).toBeCloseTo(a, 5);
    expect(s.sigma[t]).toBeCloseTo(sg, 5);
    expect(s.alphaAt(t)).toBe(s.alpha[t]);
    expect(s.sigmaAt(t)).toBe(s.sigma[t]);
  });
  it('α² + σ² = 1 everywhere and ᾱ decreasing', () => {
    for (let t = 0; t < 1000; t++) {
      expect(at(s.alpha, t) ** 2 + at(s.sigma, t) ** 2).toBeCloseTo(1, 12);
      if (t > 0) expect(s.alphaBar[t]).toBeLessThan(at(s.alphaBar, t - 1));
    }
  });
  it('β endpoints by hand: β_0 = 0.00085, β_999 = 0.012, ᾱ_0 = 1 − β_0', () => {
    expect(s.betas[0]).toBeCloseTo(0.00085, 15);
    expect(s.betas[999]).toBeCloseTo(0.012, 15);
    expect(s.alphaBar[0]).toBeCloseTo(1 - 0.00085, 15);
    expect(s.alphaBar[1]).toBeCloseTo((1 - 0.00085) * (1 - at(s.betas, 1)), 15);
  });
  it('fractional t interpolates log α; clean end', () => {
    const mid = s.alphaAt(500.5);
    expect(mid).toBeCloseTo(Math.sqrt(at(s.alpha, 500) * at(s.alpha, 501)), 12);
    expect(s.sigmaAt(500.5) ** 2 + mid ** 2).toBeCloseTo(1, 12);
    expect(s.alphaAt(CLEAN_T)).toBe(1);
    expect(s.sigmaAt(CLEAN_T)).toBe(0);
    expect(s.lambdaAt(CLEAN_T)).toBe(Infinity);
    expect(s.lambdaAt(200)).toBeCloseTo(Math.log(0.86815 / 0.49629), 4);
    expect(() => s.alphaAt(1000)).toThrow(RangeError);
  });
});

describe('other schedules', () => {
  it('linear: DDPM defaults 1e-4 → 0.02', () => {
    const b = makeBetas({ kind: 'linear', trainSteps: 1000 });
    expect(b[0]).toBeCloseTo(1e-4, 15);
    expect(b[999]).toBeCloseTo(0.02, 15);
    expect(at(b, 1) - at(b, 0)).toBeCloseTo((0.02 - 1e-4) / 999, 15);
  });
  it('cosine: ᾱ_t = f(t+1)/f(0) with s = 0.008, β ≤ 0.999', () => {
    const s = makeSchedule({ kind: 'cosine', trainSteps: 1000 });
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 10, 500, 900]) expect(s.alphaBar[t]).toBeCloseTo(f((t + 1) / 1000) / f(0), 10);
    expect(s.betas[999]).toBe(0.999);
    for (const b of s.betas) expect(b).toBeLessThanOrEqual(0.999);
    expect(at(s.alpha, 999) ** 2 + at(s.sigma, 999) ** 2).toBeCloseTo(1, 12);
  });
  it('custom scaled-linear range and T', () => {
    const s = makeSchedule({ kind: 'scaled-linear', trainSteps: 10, betaStart: 0.01, betaEnd: 0.04 });
    expect(s.T).toBe(10);
    expect(s.betas[0]).toBeCloseTo(0.01, 15);
    expect(s.betas[9]).toBeCloseTo(0.04, 15);
    expect(s.betas[3]).toBeCloseTo((0.1 + (3 * 0.1) / 9) ** 2, 15);
  });
});
