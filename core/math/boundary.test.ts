import { describe, it, expect } from 'vitest';
import { boundaryScalings, boundaryTables } from './boundary.ts';

describe('boundary scalings (docs/method.md §5)', () => {
  it('t = 0: c_skip = 1, c_out = 0 in both forms', () => {
    expect(boundaryScalings(0)).toEqual({ cSkip: 1, cOut: 0 });
    expect(boundaryScalings(0, 'gr')).toEqual({ cSkip: 1, cOut: 0 });
  });
  it('t = 1 by hand: c_skip = 0.25/100.25, c_out = 10/√100.25', () => {
    const b = boundaryScalings(1);
    expect(b.cSkip).toBeCloseTo(0.25 / 100.25, 15);
    expect(b.cSkip).toBeCloseTo(2.4938e-3, 7);
    expect(b.cOut).toBeCloseTo(10 / Math.sqrt(100.25), 15);
    expect(b.cOut).toBeCloseTo(0.99875, 5);
    expect(b.cSkip + b.cOut ** 2).toBeCloseTo(1, 15); // LCM issue #82
    expect(boundaryScalings(1, 'gr').cOut).toBeCloseTo(0.5 * 10 / Math.sqrt(100.25), 15);
  });
  it('t = 20: c_skip = 0.25/40000.25 ≈ 6.25e-6, c_out ≈ 1', () => {
    const b = boundaryScalings(20);
    expect(b.cSkip).toBeCloseTo(0.25 / 40000.25, 18);
    expect(b.cSkip).toBeCloseTo(6.25e-6, 9);
    expect(b.cOut).toBeCloseTo(200 / Math.sqrt(40000.25), 15);
    expect(boundaryScalings(20, 'gr').cOut).toBeCloseTo(0.5 * b.cOut, 15);
  });
  it('tables agree with the scalar form', () => {
    const { cSkip, cOut } = boundaryTables(1000);
    expect(cSkip[20]).toBe(boundaryScalings(20).cSkip);
    expect(cOut[999]).toBe(boundaryScalings(999).cOut);
  });
});
