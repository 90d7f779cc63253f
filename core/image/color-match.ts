/**
 * Colour matching of an inpainted fill to its surroundings. A few-step generator often gets
 * the local colour cast or contrast slightly wrong, which shows as a seam. The fill's
 * statistics in a thin ring just inside the mask are matched (per channel mean and standard
 * deviation) to the original's statistics in a ring just outside it, and the correction is
 * applied only in the feather zone, fading from full at the mask edge to none `featherPx`
 * inside. Pixels outside the mask are never touched (the caller pastes inside the mask only).
 */
import type { F32Tensor } from '../tensor/ops.ts';
import { squaredDistanceTo } from './distance.ts';

export interface ColorMatchOptions {
  /** Width in pixels of the sampling rings on either side of the mask edge. */
  readonly ringPx: number;
  /** Depth in pixels of the zone inside the mask where the correction fades out. */
  readonly featherPx: number;
  /** Gains are clamped to [1/maxGain, maxGain] so a flat ring cannot blow up the fill. */
  readonly maxGain?: number;
}

/** Per-channel correction `x' = (x − srcMean)·gain + refMean`. */
export interface ChannelCorrection {
  readonly srcMean: number;
  readonly refMean: number;
  readonly gain: number;
}

export interface ColorMatchResult {
  readonly image: F32Tensor;
  /** Null when either ring was empty (mask touches nothing, or covers everything). */
  readonly corrections: ChannelCorrection[] | null;
}

function stats(x: Float32Array, off: number, idx: readonly number[]): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (const i of idx) {
    const v = x[off + i] as number;
    s += v;
    s2 += v * v;
  }
  const mean = s / idx.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / idx.length - mean * mean)) };
}

/**
 * `gen` and `orig` are [1, C, H, W] over the same region; `mask` is H·W in [0, 1] (≥ 0.5 = fill).
 * Returns a corrected copy of `gen`.
 */
export function matchFillColors(gen: F32Tensor, orig: F32Tensor, mask: Float32Array, opts: ColorMatchOptions): ColorMatchResult {
  const [, C, H, W] = gen.shape as [number, number, number, number];
  const n = H * W;
  if (mask.length !== n) throw new Error(`mask has ${mask.length} values, expected ${n}`);
  const inside = (i: number) => (mask[i] as number) >= 0.5;
  const dIn = squaredDistanceTo(W, H, (i) => !inside(i));
  const dOut = squaredDistanceTo(W, H, inside);
  const ring2 = opts.ringPx * opts.ringPx;
  const inner: number[] = [];
  const outer: number[] = [];
  for (let i = 0; i < n; i++) {
    if (inside(i)) {
      if ((dIn[i] as number) <= ring2) inner.push(i);
    } else if ((dOut[i] as number) <= ring2) outer.push(i);
  }
  const out = new Float32Array(gen.data);
  if (inner.length === 0 || outer.length === 0) return { image: { data: out, shape: [...gen.shape] }, corrections: null };
  const maxGain = opts.maxGain ?? 2;
  const corrections: ChannelCorrection[] = [];
  for (let c = 0; c < C; c++) {
    const src = stats(gen.data, c * n, inner);
    const ref = stats(orig.data, c * n, outer);
    const raw = src.std > 1e-4 ? ref.std / src.std : 1;
    const gain = Math.min(maxGain, Math.max(1 / maxGain, raw));
    corrections.push({ srcMean: src.mean, refMean: ref.mean, gain });
  }
  const fz = Math.max(1, opts.featherPx);
  for (let i = 0; i < n; i++) {
    if (!inside(i)) continue;
    // Distance to the nearest kept pixel is ≥ 1 inside the mask; weight 1 on the edge row.
    const w = 1 - (Math.sqrt(dIn[i] as number) - 1) / fz;
    if (w <= 0) continue;
    for (let c = 0; c < C; c++) {
      const k = corrections[c] as ChannelCorrection;
      const o = c * n + i;
      const v = out[o] as number;
      out[o] = v + w * ((v - k.srcMean) * k.gain + k.refMean - v);
    }
  }
  return { image: { data: out, shape: [...gen.shape] }, corrections };
}
