import { describe, expect, it } from 'vitest';
import { chooseSampler } from './sampler-choice.ts';

describe('default sampler from validation PSNR', () => {
  it('picks the kind that is better over 2 and 4 steps, then the best step count with it', () => {
    // the full-CoDi restoration baseline's measured values (64 val crops)
    const c = chooseSampler({ codi: { 1: 24.53, 2: 22.5, 4: 20.83 }, renoise: { 2: 22.83, 4: 22.09 } });
    expect(c).toEqual({ kind: 'codi-renoise', steps: 1, psnr: { 1: 24.53, 2: 22.83, 4: 22.09 } });
    const d = chooseSampler({ codi: { 1: 20, 2: 23, 4: 24 }, renoise: { 2: 22, 4: 21 } });
    expect(d).toEqual({ kind: 'codi', steps: 4, psnr: { 1: 20, 2: 23, 4: 24 } });
  });
  it('keeps the released deterministic sampler and fewer steps on ties', () => {
    expect(chooseSampler({ codi: { 1: 20, 2: 20, 4: 20 }, renoise: { 2: 20, 4: 20 } })).toMatchObject({ kind: 'codi', steps: 1 });
    // a tie over 2 + 4 steps together is a tie, even if the two differ at each count
    expect(chooseSampler({ codi: { 1: 10, 2: 22, 4: 20 }, renoise: { 2: 21, 4: 21 } })).toMatchObject({ kind: 'codi', steps: 2 });
  });
  it('refuses a missing or non-finite measurement', () => {
    expect(() => chooseSampler({ codi: { 1: 20, 2: Number.NaN, 4: 20 }, renoise: { 2: 20, 4: 20 } })).toThrow(/finite/);
  });
});
