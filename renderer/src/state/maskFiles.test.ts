import { describe, expect, it } from 'vitest';
import { maskFromPicture } from './maskFiles.ts';

function grey(width: number, height: number, v: number) {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([v, v, v, 255], i * 4);
  return { width, height, rgba };
}

describe('mask pictures', () => {
  it('takes a picture of the same size as it is', () => {
    const r = maskFromPicture(grey(4, 2, 255), { width: 4, height: 2 });
    expect(r.ok && r.note).toBeNull();
    expect(r.ok && Array.from(r.mask)).toEqual(new Array(8).fill(255));
  });

  it("scales one of the image's shape and says so; refuses another shape naming both sizes", () => {
    const scaled = maskFromPicture(grey(4, 2, 255), { width: 8, height: 4 });
    expect(scaled.ok && scaled.mask.length).toBe(32);
    expect(scaled.ok && scaled.note).toContain('same shape');
    const refused = maskFromPicture(grey(4, 4, 255), { width: 8, height: 4 });
    expect(refused).toEqual({ ok: false, message: expect.stringMatching(/^Mask not loaded: the mask is 4×4 but the image is 8×4/) });
  });
});
