import { describe, expect, it } from 'vitest';
import { chooseFill } from './fill-choice.ts';
import type { FillCandidate } from './fill-choice.ts';

const c = (temperature: number, samples: number, psnr: number, allCriteria: number): FillCandidate => ({ temperature, samples, psnr, allCriteria });

describe('chooseFill', () => {
  it('puts the share of photos meeting the criteria before speed and PSNR', () => {
    // the 397 val crops of 2026-12-06: one sample at τ 0.6 is sharper on average but fails more photos
    const cands = [c(1, 4, 17.35, 0.73), c(0.8, 1, 17.35, 0.71), c(0.6, 1, 17.6, 0.7), c(0.6, 4, 17.77, 0.698)];
    expect(chooseFill(cands, 16.51)).toEqual({ kind: 'model', pick: cands[0] });
  });

  it('within a point of the best share takes fewer samples, then the better PSNR', () => {
    const cands = [c(1, 4, 18.4, 0.78), c(0.8, 1, 18.1, 0.775), c(0.6, 1, 18.3, 0.771), c(0.5, 1, 18.5, 0.74)];
    expect(chooseFill(cands, 17)).toEqual({ kind: 'model', pick: cands[2] });
  });

  it('weighs an antithetic pair like any setting: at a tied share its 2 model calls beat 4 independent draws', () => {
    // the 397 val crops of 2026-12-06 at τ 0.8: a pair 17.59 dB / 72.8 %, 4 independent draws 17.52 dB / 72.8 %
    const pair: FillCandidate = { temperature: 0.8, samples: 2, antithetic: true, psnr: 17.59, allCriteria: 0.728 };
    const cands = [c(0.8, 4, 17.52, 0.728), c(0.8, 2, 17.46, 0.715), pair];
    expect(chooseFill(cands, 16.51)).toEqual({ kind: 'model', pick: pair });
  });

  it('gives the classic fill when the chosen setting is below it', () => {
    expect(chooseFill([c(1, 1, 16.9, 0.9)], 17).kind).toBe('classic');
    expect(() => chooseFill([], 17)).toThrow(/no candidates/);
  });
});
