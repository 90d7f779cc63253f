import { describe, expect, it } from 'vitest';
import { maskFit, resizeMask } from './mask-size.ts';

describe('mask size rule (editor and engine)', () => {
  it('uses a mask of the image size as it is', () => {
    expect(maskFit({ width: 320, height: 240 }, { width: 320, height: 240 })).toEqual({ kind: 'same' });
  });

  it('scales a mask of the same shape and says so with both sizes', () => {
    const fit = maskFit({ width: 160, height: 120 }, { width: 320, height: 240 });
    expect(fit.kind).toBe('scale');
    expect(fit.kind === 'scale' && fit.note).toBe('the mask is 160×120 but the image is 320×240: same shape, so the mask was scaled to 320×240');
    // An exact downscale that rounded one side (4000×3000 / 3) is the same shape.
    expect(maskFit({ width: 1333, height: 1000 }, { width: 4000, height: 3000 }).kind).toBe('scale');
  });

  it('refuses a mask of another shape, naming both sizes', () => {
    const fit = maskFit({ width: 6, height: 8 }, { width: 8, height: 6 });
    expect(fit.kind).toBe('refuse');
    expect(fit.kind === 'refuse' && fit.message).toMatch(/^the mask is 6×8 but the image is 8×6, a different shape/);
    expect(maskFit({ width: 320, height: 200 }, { width: 320, height: 240 }).kind).toBe('refuse');
  });

  it('scales the mask so that its filled area lands on the same part of the image', () => {
    // 4×3 mask with its left half filled → 8×6: the left half stays filled, the right half empty.
    const small = Uint8Array.from([255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0]);
    const big = resizeMask(small, { width: 4, height: 3 }, { width: 8, height: 6 });
    expect(big.length).toBe(48);
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 8; x++) expect(big[y * 8 + x]! >= 128, `${x},${y}`).toBe(x < 4);
    }
    expect(() => resizeMask(small, { width: 5, height: 3 }, { width: 8, height: 6 })).toThrow(/expected 5×3/);
  });
});
