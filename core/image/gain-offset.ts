/**
 * "Run at working resolution, carry the edit to full resolution": an edit model runs on a
 * downscaled copy of a big photo; the change it made is summarised as a smooth per-pixel
 * affine map (for luma `result ≈ gain · input + offset`; for colour, see CarryField), estimated from local means and
 * variances at low resolution and blurred, then upsampled (bicubic) and applied to the
 * full-resolution original. Colour and tone edits carry over while the original's fine
 * detail (which the low-resolution result never had) is kept.
 */
import type { F32Tensor } from '../tensor/ops.ts';
import { boxMean, clampUnitInPlace } from './filters.ts';
import { fromLumaChroma, toLumaChroma } from './luma-chroma.ts';
import { resizeArea, resizeBicubic } from './resize.ts';

export interface GainOffsetField {
  /** [1, C, h, w] at the working resolution. */
  readonly gain: F32Tensor;
  readonly offset: F32Tensor;
}

export interface GainOffsetOptions {
  /** Radius (px at working resolution) of the local statistics window. */
  readonly radius: number;
  /** Radius of the extra blur applied to the field itself (default = radius). */
  readonly smooth?: number;
  /** Regularises the variance ratio in flat areas ([-1, 1] units, squared). */
  readonly eps?: number;
  /** Gain magnitudes are clamped to [1/maxGain, maxGain] before the sign is applied. */
  readonly maxGain?: number;
}

/** Regulariser of the local correlation ([-1, 1] units, squared: a std of 0.001). */
const RHO_EPS = 1e-6;

/**
 * Field such that `gain · input + offset` matches `result`'s local mean and standard
 * deviation around every pixel: gain = s · σ_result / σ_input, offset = μ_result − gain · μ_input.
 * The sign s comes from the local correlation ρ: 1 for ρ ≥ 0, falling linearly to −1 at ρ = −1
 * (s = 1 + 2ρ). Why not a least-squares gain cov/var: with a noisy result it shrinks towards 0
 * and flattens the photo's detail. Why a sign at all: a std ratio alone is never negative, so an
 * inverted result ("negative") was carried as a grey wash (held-out luma correlation −0.08
 * instead of −1; on validation photos the model's own output had −0.97, the carried one −0.37).
 * ρ has its own, far smaller regulariser than the ratio: a window that is nearly flat at working
 * resolution can still hold full-resolution detail, whose sign the field decides; only an exactly
 * flat window gets ρ = 0, s = 1.
 */
export function estimateGainOffset(input: F32Tensor, result: F32Tensor, opts: GainOffsetOptions): GainOffsetField {
  const [, C, H, W] = input.shape as [number, number, number, number];
  const [, C2, H2, W2] = result.shape as [number, number, number, number];
  if (C !== C2 || H !== H2 || W !== W2) throw new RangeError(`gain/offset: input ${C}×${H}×${W} vs result ${C2}×${H2}×${W2}`);
  const n = H * W;
  const eps = opts.eps ?? 1e-3;
  const maxGain = opts.maxGain ?? 4;
  const smooth = opts.smooth ?? opts.radius;
  const gain = new Float32Array(C * n);
  const offset = new Float32Array(C * n);
  const sq = new Float32Array(n);
  for (let c = 0; c < C; c++) {
    const a = input.data.subarray(c * n, (c + 1) * n);
    const b = result.data.subarray(c * n, (c + 1) * n);
    const ma = boxMean(a, H, W, opts.radius);
    const mb = boxMean(b, H, W, opts.radius);
    for (let i = 0; i < n; i++) sq[i] = (a[i] as number) ** 2;
    const aa = boxMean(sq, H, W, opts.radius);
    for (let i = 0; i < n; i++) sq[i] = (b[i] as number) ** 2;
    const bb = boxMean(sq, H, W, opts.radius);
    for (let i = 0; i < n; i++) sq[i] = (a[i] as number) * (b[i] as number);
    const ab = boxMean(sq, H, W, opts.radius);
    const g = new Float32Array(n);
    const o = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const va = Math.max(0, (aa[i] as number) - (ma[i] as number) ** 2);
      const vb = Math.max(0, (bb[i] as number) - (mb[i] as number) ** 2);
      const cov = (ab[i] as number) - (ma[i] as number) * (mb[i] as number);
      const rho = cov / Math.sqrt((va + RHO_EPS) * (vb + RHO_EPS));
      const sign = Math.max(-1, 1 + 2 * Math.min(0, rho));
      const gi = sign * Math.min(maxGain, Math.max(1 / maxGain, Math.sqrt((vb + eps) / (va + eps))));
      g[i] = gi;
      o[i] = (mb[i] as number) - gi * (ma[i] as number);
    }
    gain.set(boxMean(g, H, W, smooth), c * n);
    offset.set(boxMean(o, H, W, smooth), c * n);
  }
  return { gain: { data: gain, shape: [1, C, H, W] }, offset: { data: offset, shape: [1, C, H, W] } };
}

/**
 * Apply a field to a full-resolution image: the field is upsampled bicubically to the
 * image's size one channel at a time (bounded memory), then `out = gain · x + offset`.
 */
export function applyGainOffset(full: F32Tensor, field: GainOffsetField): F32Tensor {
  const [, C, H, W] = full.shape as [number, number, number, number];
  const [, FC, h, w] = field.gain.shape as [number, number, number, number];
  if (FC !== C) throw new RangeError(`gain/offset: field has ${FC} channels, image ${C}`);
  const n = H * W;
  const m = h * w;
  const out = new Float32Array(C * n);
  for (let c = 0; c < C; c++) {
    const plane = (t: F32Tensor) => resizeBicubic({ data: t.data.subarray(c * m, (c + 1) * m), shape: [1, 1, h, w] }, H, W).data;
    const g = plane(field.gain);
    const o = plane(field.offset);
    const x = full.data.subarray(c * n, (c + 1) * n);
    for (let i = 0; i < n; i++) out[c * n + i] = (g[i] as number) * (x[i] as number) + (o[i] as number);
  }
  return { data: out, shape: [1, C, H, W] };
}

/**
 * How a pack's change is carried onto an RGB photo, in luma/chroma space (core/image/luma-chroma.ts):
 * luma by the gain/offset field above (a std ratio keeps the photo's detail, which lives in luma);
 * each colour difference as a local least-squares affine map of all three input planes
 * (chroma' ≈ a·Y + b·(B − Y) + c·(R − Y) + d). Why not per RGB channel: R, G and B vary together
 * inside a window and each kept its own detail, so a grey result was carried with the photo's
 * orange and pink (a gain per channel cannot cancel colour, and its clamp kept at least a quarter
 * of it). Why least squares for chroma: the model's sample noise does not correlate with the photo
 * and drops out, where a std ratio would read it as colour; and its shrinkage only softens colour
 * detail, never the luminance detail. Chroma may depend on luma too, so a grade that scales R, G
 * and B differently ("warmer") stays representable.
 */
export interface CarryField {
  /** [1, 1, h, w] gain/offset of luma. */
  readonly luma: GainOffsetField;
  /** [1, 6, h, w]: for B − Y then R − Y, the coefficients on (Y, B − Y, R − Y). */
  readonly chromaCoef: F32Tensor;
  /** [1, 2, h, w]: the constant term of B − Y and R − Y. */
  readonly chromaOffset: F32Tensor;
}

/** Ridge of the chroma regression ([-1, 1] units, squared: a std of about 0.003, under one 8-bit level). */
const CHROMA_EPS = 1e-5;

/** Solve the symmetric 3×3 system S·a = v (S positive definite after the ridge), by Cramer's rule. */
function solve3(s: readonly number[], v: readonly number[]): [number, number, number] {
  const [a, b, c, d, e, f, g, h, k] = s as [number, number, number, number, number, number, number, number, number];
  const [x, y, z] = v as [number, number, number];
  const det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
  return [
    (x * (e * k - f * h) - b * (y * k - f * z) + c * (y * h - e * z)) / det,
    (a * (y * k - f * z) - x * (d * k - f * g) + c * (d * z - y * g)) / det,
    (a * (e * z - y * h) - b * (d * z - y * g) + x * (d * h - e * g)) / det,
  ];
}

/** The carry field between an RGB input and the pack's result for it (same size). */
export function estimateCarryField(input: F32Tensor, result: F32Tensor, opts: GainOffsetOptions): CarryField {
  const [, , H, W] = input.shape as [number, number, number, number];
  if (result.shape.join() !== input.shape.join()) throw new RangeError(`carry: input [${input.shape.join(', ')}] vs result [${result.shape.join(', ')}]`);
  const n = H * W;
  const x = toLumaChroma(input);
  const r = toLumaChroma(result);
  const plane = (t: F32Tensor, c: number): Float32Array => t.data.subarray(c * n, (c + 1) * n);
  const luma = estimateGainOffset({ data: plane(x, 0), shape: [1, 1, H, W] }, { data: plane(r, 0), shape: [1, 1, H, W] }, opts);
  const mean = (f: (i: number) => number): Float32Array => boxMean(Float32Array.from({ length: n }, (_, i) => f(i)), H, W, opts.radius);
  const xs = [0, 1, 2].map((c) => plane(x, c));
  const mx = xs.map((p) => boxMean(p, H, W, opts.radius));
  // local covariance of the input planes (row-major 3×3) and of each chroma result plane with them
  const cxx = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => mean((k) => (xs[i]![k] as number) * (xs[j]![k] as number))));
  const coef = new Float32Array(6 * n);
  const offset = new Float32Array(2 * n);
  const smooth = opts.smooth ?? opts.radius;
  for (let c = 0; c < 2; c++) {
    const rc = plane(r, c + 1);
    const mr = boxMean(rc, H, W, opts.radius);
    const crx = [0, 1, 2].map((j) => mean((k) => (rc[k] as number) * (xs[j]![k] as number)));
    const a = [0, 1, 2].map(() => new Float32Array(n));
    const o = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const m = [0, 1, 2].map((j) => mx[j]![k] as number);
      const S = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => (cxx[3 * i + j]![k] as number) - m[i]! * m[j]! + (i === j ? CHROMA_EPS : 0)));
      const v = [0, 1, 2].map((j) => (crx[j]![k] as number) - (mr[k] as number) * m[j]!);
      const sol = solve3(S, v);
      let b = mr[k] as number;
      for (let j = 0; j < 3; j++) {
        a[j]![k] = sol[j]!;
        b -= sol[j]! * m[j]!;
      }
      o[k] = b;
    }
    for (let j = 0; j < 3; j++) coef.set(boxMean(a[j]!, H, W, smooth), (3 * c + j) * n);
    offset.set(boxMean(o, H, W, smooth), c * n);
  }
  return { luma, chromaCoef: { data: coef, shape: [1, 6, H, W] }, chromaOffset: { data: offset, shape: [1, 2, H, W] } };
}

/** Apply a carry field to a full-resolution RGB image; field planes are upsampled one at a time. */
export function applyCarryField(full: F32Tensor, field: CarryField): F32Tensor {
  const [, , H, W] = full.shape as [number, number, number, number];
  const [, , h, w] = field.chromaOffset.shape as [number, number, number, number];
  const n = H * W;
  const m = h * w;
  const x = toLumaChroma(full);
  const out = new Float32Array(3 * n);
  out.set(applyGainOffset({ data: x.data.subarray(0, n), shape: [1, 1, H, W] }, field.luma).data, 0);
  const up = (t: F32Tensor, i: number): Float32Array => resizeBicubic({ data: t.data.subarray(i * m, (i + 1) * m), shape: [1, 1, h, w] }, H, W).data;
  for (let c = 0; c < 2; c++) {
    const dst = out.subarray((c + 1) * n, (c + 2) * n);
    dst.set(up(field.chromaOffset, c));
    for (let j = 0; j < 3; j++) {
      const a = up(field.chromaCoef, 3 * c + j);
      const src = x.data.subarray(j * n, (j + 1) * n);
      for (let i = 0; i < n; i++) dst[i] = (dst[i] as number) + (a[i] as number) * (src[i] as number);
    }
  }
  return fromLumaChroma({ data: out, shape: [1, 3, H, W] });
}

/** Working-resolution size for an image: the longer side becomes at most `maxSide`, rounded to `align`. */
export function workingSize(H: number, W: number, maxSide: number, align: number): { height: number; width: number; scaled: boolean } {
  const s = Math.min(1, maxSide / Math.max(H, W));
  if (s >= 1) return { height: H, width: W, scaled: false };
  const round = (v: number) => Math.max(align, Math.round((v * s) / align) * align);
  return { height: round(H), width: round(W), scaled: true };
}

/**
 * Edit a photo at its working size and carry the change back: area-downscale `x` when `work` is
 * scaled, run `edit` there, fit the gain/offset field between that input and its edit, apply it
 * to `x` at full size and clamp to [−1, 1]. One implementation for the engine and the evaluation,
 * so the eval measures what users get.
 */
export async function carryFromWorkingSize(
  x: F32Tensor,
  work: { height: number; width: number; scaled: boolean },
  radius: number,
  edit: (input: F32Tensor) => Promise<F32Tensor>,
): Promise<F32Tensor> {
  const low = work.scaled ? resizeArea(x, work.height, work.width) : x;
  const out = applyCarryField(x, estimateCarryField(low, await edit(low), { radius }));
  clampUnitInPlace(out.data);
  return out;
}

/**
 * Keep only the smooth part of a model's change: fit the field from (input, result) and apply it
 * to the input. Used where a pack's job is a look (tone, colour, vignette) rather than new
 * content: the model's own fine-scale errors are dropped and the photo's detail stays exact.
 */
export function carryEdit(input: F32Tensor, result: F32Tensor, radius: number): F32Tensor {
  return applyCarryField(input, estimateCarryField(input, result, { radius }));
}

/**
 * The mean of `n` draws (draw k = the sample with seed offset k), for packs whose change is
 * carried as a smooth field (manifest `carry`): the mean estimates the learned change without
 * each sample's noise-driven part. Draws must all have the same length.
 */
export async function meanOfDraws(n: number, draw: (k: number) => Promise<Float32Array>): Promise<Float32Array> {
  const first = await draw(0);
  if (n <= 1) return first;
  const mean = Float32Array.from(first, (v) => v / n);
  for (let k = 1; k < n; k++) {
    const one = await draw(k);
    if (one.length !== mean.length) throw new RangeError(`meanOfDraws: draw ${k} has ${one.length} values, expected ${mean.length}`);
    for (let i = 0; i < mean.length; i++) mean[i] = (mean[i] as number) + (one[i] as number) / n;
  }
  return mean;
}
