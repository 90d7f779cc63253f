import { describe, expect, it } from 'vitest';
import { addBase, residualAllowed, subtractBase } from './residual.ts';

describe('residual targets', () => {
  it('takes the base from the first channels of each item and round-trips', () => {
    // B = 2, C = 1, Cc = 2, hw = 2: item b's base is cond[b·4 … b·4+2)
    const x = Float32Array.of(1, 2, 3, 4);
    const cond = Float32Array.of(10, 20, 99, 99, 30, 40, 99, 99);
    const y = subtractBase(x, cond, 2);
    expect(Array.from(y)).toEqual([-9, -18, -27, -36]);
    const back = addBase({ data: y, shape: [2, 1, 1, 2] }, { data: cond, shape: [2, 2, 1, 2] });
    expect(Array.from(back.data)).toEqual([1, 2, 3, 4]);
  });

  it('scales the residual by k and undoes it exactly', () => {
    const x = Float32Array.of(0.5, -0.25);
    const cond = Float32Array.of(0.25, 0.25);
    const y = subtractBase(x, cond, 1, 4);
    expect(Array.from(y)).toEqual([1, -2]);
    expect(Array.from(addBase({ data: y, shape: [1, 1, 1, 2] }, { data: cond, shape: [1, 1, 1, 2] }, 4).data)).toEqual([0.5, -0.25]);
    expect(() => subtractBase(x, cond, 1, 0)).toThrow(/positive/);
    expect(() => addBase({ data: y, shape: [1, 1, 1, 2] }, { data: cond, shape: [1, 1, 1, 2] }, Number.NaN)).toThrow(/positive/);
  });

  it('refuses a condition smaller than the target, and depth', () => {
    expect(() => subtractBase(new Float32Array(4), new Float32Array(2))).toThrow(/smaller/);
    expect(residualAllowed('depth')).toBe(false);
    expect(residualAllowed('restore')).toBe(true);
  });
});
