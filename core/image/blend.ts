/**
 * Putting a model's output back into the photo: a whole-image mix by the tool's strength, and
 * the inpaint paste, which changes only pixels inside the mask (every pixel outside keeps its
 * exact value) and softens the fill where the mask is thin or cornered.
 */
import { boxMean } from './filters.ts';
import type { F32Tensor } from '../tensor/ops.ts';

/**
 * out·s + base·(1 − s); strength 1 (or omitted) returns `out` itself. `base` may be a function,
 * called only when a mix is needed: a ×4 restore's bicubic base of a 32-megapixel output is 384 MB.
 */
export function blend(out: F32Tensor, base: F32Tensor | (() => F32Tensor), strength: number | undefined): F32Tensor {
  if (strength === undefined || strength >= 1) return out;
  const b = typeof base === 'function' ? base() : base;
  const d = new Float32Array(out.data.length);
  for (let i = 0; i < d.length; i++) d[i] = strength * (out.data[i] as number) + (1 - strength) * (b.data[i] as number);
  return { data: d, shape: [...out.shape] };
}

/**
 * Mask × min(1, 2 × box mean of the mask): 0 outside the mask and 1 at and inside a straight
 * edge (the box there is more than half mask); below 1 only at corners and in strokes narrower
 * than the box (2r + 1 px), where most of the window is unmasked.
 */
export function innerFeather(mask: Float32Array, W: number, H: number, r: number): Float32Array {
  const bin = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) bin[i] = (mask[i] as number) >= 0.5 ? 1 : 0;
  const out = boxMean(bin, H, W, r);
  for (let i = 0; i < out.length; i++) out[i] = (bin[i] as number) * Math.min(1, 2 * (out[i] as number));
  return out;
}

/** Interleaved pixels (8- or 16-bit, RGB or RGBA). */
export interface PixelImage {
  pixels: Uint8Array | Uint16Array;
  channels: number;
  width: number;
  height: number;
}

/**
 * Mix an RGB patch into `dst` at (x0, y0), in place: dst = w·patch + (1 − w)·dst, rounded, per
 * pixel weight `weights` (the patch's size). A weight of 0 leaves the pixel untouched, alpha is
 * never changed, and the part of the patch past the image's edge (grid padding) is dropped.
 */
export function pasteWeighted(dst: PixelImage, patch: Uint8Array | Uint16Array, weights: Float32Array, at: { x0: number; y0: number; width: number; height: number }): void {
  const { x0, y0, width: cw } = at;
  const c = dst.channels;
  const out = dst.pixels;
  for (let y = y0; y < Math.min(y0 + at.height, dst.height); y++) {
    for (let x = x0; x < Math.min(x0 + cw, dst.width); x++) {
      const w = weights[(y - y0) * cw + (x - x0)] as number;
      if (w <= 0) continue;
      const o = (y * dst.width + x) * c;
      const g = ((y - y0) * cw + (x - x0)) * 3;
      for (let k = 0; k < 3; k++) out[o + k] = Math.round(w * (patch[g + k] as number) + (1 - w) * (out[o + k] as number));
    }
  }
}
