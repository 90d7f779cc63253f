/**
 * Unsharp mask: x + amount·(x − G_σ ∗ x), per plane, with a Gaussian G_σ and replicated edges.
 *
 * Restore packs may name one in their manifest (`sharpen`), applied to the model's output before
 * the clamp. Why a restore tool wants it: on damaged photos the network removes noise and blocks
 * but leaves mid-scale edges softer than the truth, and a wide, mild unsharp mask raises both PSNR
 * and gradient similarity there; on the plain bicubic image it lowers both, because it sharpens the
 * damage too. Which σ and amount, if any, is chosen on validation data (build/restore).
 *
 * Written here rather than taken from sharp: the output of a ×4 restore is a float tensor that is
 * still to be mixed and clamped, and a 2 MP restore's output (32 MP, 384 MB as float) must be
 * sharpened in place, a band of rows at a time, so the peak memory of the job does not grow by a
 * second copy of it. The mask is affine-equivariant, so the value range ([0, 1] or [−1, 1]) does
 * not matter.
 */

import { gaussianTaps } from './filters.ts';

export interface Sharpen {
  /** Gaussian σ in output pixels */
  sigma: number;
  /** weight of the detail x − G_σ ∗ x added back; 0 leaves the image as it is */
  amount: number;
}

/**
 * Sharpen `x` ([B, C, H, W] or any stack of H·W planes) in place. The horizontal blur of each row
 * is kept in a ring of 2r + 1 rows: when output row y is written, every row the vertical blur still
 * needs (y − r … y + r) has been blurred from original values, since only rows above y have changed.
 * Extra memory: that ring and one row.
 */
export function unsharpInPlace(x: { data: Float32Array; shape: readonly number[] }, s: Sharpen): void {
  if (s.amount === 0) return;
  if (!Number.isFinite(s.amount) || s.amount < 0) throw new RangeError(`unsharp amount must be ≥ 0, got ${s.amount}`);
  const shape = x.shape;
  if (shape.length < 2) throw new RangeError(`unsharp needs planes, got shape [${shape.join(', ')}]`);
  const H = shape[shape.length - 2] as number;
  const W = shape[shape.length - 1] as number;
  const planes = x.data.length / (H * W);
  const taps = gaussianTaps(s.sigma);
  const r = (taps.length - 1) / 2;
  const ring = new Float32Array(taps.length * W);
  const acc = new Float32Array(W);
  for (let p = 0; p < planes; p++) {
    const plane = x.data.subarray(p * H * W, (p + 1) * H * W);
    // ring slot of row j (rows clamp to [0, H − 1]; a clamped row is the edge row's blur)
    const slot = (j: number): number => ((j % taps.length) + taps.length) % taps.length;
    const blurRow = (j: number): void => blurRowInto(plane, Math.min(H - 1, Math.max(0, j)), W, taps, r, ring, slot(j) * W);
    for (let j = -r; j <= r; j++) blurRow(j);
    for (let y = 0; y < H; y++) {
      acc.fill(0);
      for (let k = -r; k <= r; k++) {
        const w = taps[k + r] as number;
        const base = slot(y + k) * W;
        for (let i = 0; i < W; i++) acc[i] = (acc[i] as number) + w * (ring[base + i] as number);
      }
      const row = y * W;
      for (let i = 0; i < W; i++) {
        const v = plane[row + i] as number;
        plane[row + i] = v + s.amount * (v - (acc[i] as number));
      }
      // the row the next output row needs at its bottom, from original values (it is below y, or
      // the last row clamped, which changes only when y is the last row and nothing follows)
      if (y + 1 < H) blurRow(y + 1 + r);
    }
  }
}

/** Horizontal Gaussian blur of plane row `y` into `out` at `at`, edges replicated. */
function blurRowInto(plane: Float32Array, y: number, W: number, taps: Float64Array, r: number, out: Float32Array, at: number): void {
  const row = y * W;
  for (let i = 0; i < W; i++) {
    let a = 0;
    if (i >= r && i + r < W) {
      // interior: no clamping (most of a wide row)
      for (let k = 0, j = row + i - r; k < taps.length; k++, j++) a += (taps[k] as number) * (plane[j] as number);
    } else {
      for (let k = -r; k <= r; k++) {
        const xx = i + k < 0 ? 0 : i + k >= W ? W - 1 : i + k;
        a += (taps[k + r] as number) * (plane[row + xx] as number);
      }
    }
    out[at + i] = a;
  }
}
