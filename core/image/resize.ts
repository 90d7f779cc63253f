/**
 * Separable resampling of NCHW float images with precomputed per-axis weights.
 * Bicubic = Keys cubic convolution with a = −0.5 (the kernel of PIL/torch "bicubic"), pixel
 * centres aligned (align_corners = false), out-of-range taps clamped to the edge pixel, and
 * the kernel stretched by 1/scale when downscaling (antialiasing, as PIL does). Area = exact
 * box-overlap averaging (OpenCV INTER_AREA semantics). Used for restoration conditions in
 * training and at inference, so both sides get identical pixels.
 *
 * Weight, index and pixel reads stay inside the tables and planes they were sized for, so the
 * inner loops cast them `as number` rather than checking each one.
 */
import type { F32Tensor } from '../tensor/ops.ts';

/** Per-axis resampling weights: output i = Σ_k weight[i·taps + k] · input[index[i·taps + k]]. */
export interface ResizeWeights {
  inSize: number;
  outSize: number;
  taps: number;
  index: Int32Array;
  weight: Float64Array;
}

export const KEYS_A = -0.5;

/** Keys cubic convolution kernel. */
export function keysCubic(x: number, a = KEYS_A): number {
  const ax = Math.abs(x);
  if (ax <= 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
  if (ax < 2) return ((a * ax - 5 * a) * ax + 8 * a) * ax - 4 * a;
  return 0;
}

export interface BicubicOptions {
  /** Stretch the kernel when downscaling (default true). */
  antialias?: boolean;
  /** Keys parameter (default −0.5). */
  a?: number;
}

function checkSizes(inSize: number, outSize: number): void {
  if (!Number.isInteger(inSize) || !Number.isInteger(outSize) || inSize < 1 || outSize < 1) {
    throw new RangeError(`resize: sizes must be positive integers (${inSize} → ${outSize})`);
  }
}

/** Bicubic weights for one axis. */
export function bicubicWeights(inSize: number, outSize: number, options: BicubicOptions = {}): ResizeWeights {
  checkSizes(inSize, outSize);
  const a = options.a ?? KEYS_A;
  const scale = outSize / inSize;
  const fs = (options.antialias ?? true) && scale < 1 ? 1 / scale : 1;
  const radius = 2 * fs;
  const taps = Math.ceil(2 * radius) + 1;
  const index = new Int32Array(outSize * taps);
  const weight = new Float64Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const c = (i + 0.5) / scale - 0.5;
    const lo = Math.ceil(c - radius);
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const j = lo + k;
      const w = keysCubic((j - c) / fs, a);
      index[i * taps + k] = j < 0 ? 0 : j >= inSize ? inSize - 1 : j; // edge clamp
      weight[i * taps + k] = w;
      sum += w;
    }
    for (let k = 0; k < taps; k++) weight[i * taps + k] = (weight[i * taps + k] as number) / sum;
  }
  return { inSize, outSize, taps, index, weight };
}

/** Box-overlap (area) weights for one axis; exact block mean for integer factors. */
export function areaWeights(inSize: number, outSize: number): ResizeWeights {
  checkSizes(inSize, outSize);
  const s = inSize / outSize;
  const taps = Math.ceil(s) + 1;
  const index = new Int32Array(outSize * taps);
  const weight = new Float64Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const x0 = i * s;
    const x1 = (i + 1) * s;
    const j0 = Math.floor(x0);
    for (let k = 0; k < taps; k++) {
      const j = Math.min(j0 + k, inSize - 1);
      const overlap = Math.max(0, Math.min(j0 + k + 1, x1) - Math.max(j0 + k, x0));
      index[i * taps + k] = j;
      weight[i * taps + k] = overlap / s;
    }
  }
  return { inSize, outSize, taps, index, weight };
}

/** Apply per-axis weights to every [H, W] plane of an NCHW (or any [..., H, W]) tensor. */
export function resizeSeparable(x: F32Tensor, wy: ResizeWeights, wx: ResizeWeights): F32Tensor {
  const shape = x.shape;
  const [H, W] = dims(x);
  if (wy.inSize !== H || wx.inSize !== W) throw new RangeError(`resize: weights are for ${wy.inSize}×${wx.inSize}, image is ${H}×${W}`);
  const planes = x.data.length / (H * W);
  const OH = wy.outSize;
  const OW = wx.outSize;
  const out = new Float32Array(planes * OH * OW);
  const tmp = new Float64Array(H * OW); // horizontally resampled plane
  const acc = new Float64Array(OW);
  const { taps: tx, index: ix, weight: wxw } = wx;
  const { taps: ty, index: iy, weight: wyw } = wy;
  const xd = x.data;
  for (let p = 0; p < planes; p++) {
    const src = p * H * W;
    // 1. horizontal pass: tmp[y, ox] = Σ_k wx · x[y, ix]
    for (let y = 0; y < H; y++) {
      const row = src + y * W;
      const trow = y * OW;
      for (let o = 0; o < OW; o++) {
        let s = 0;
        const base = o * tx;
        for (let k = 0; k < tx; k++) s += (wxw[base + k] as number) * (xd[row + (ix[base + k] as number)] as number);
        tmp[trow + o] = s;
      }
    }
    // 2. vertical pass, row-wise so the inner loop runs along contiguous memory
    const dst = p * OH * OW;
    for (let o = 0; o < OH; o++) {
      acc.fill(0);
      const base = o * ty;
      for (let k = 0; k < ty; k++) {
        const w = wyw[base + k] as number;
        if (w === 0) continue;
        const trow = (iy[base + k] as number) * OW;
        for (let q = 0; q < OW; q++) acc[q] = (acc[q] as number) + w * (tmp[trow + q] as number);
      }
      out.set(acc, dst + o * OW);
    }
  }
  return { data: out, shape: [...shape.slice(0, -2), OH, OW] };
}

/** The last two dims, [H, W], of an NCHW (or any [..., H, W]) tensor. */
function dims(x: F32Tensor): [number, number] {
  const [H, W] = x.shape.slice(-2);
  if (H === undefined || W === undefined) throw new RangeError('resize: need at least [H, W]');
  return [H, W];
}

/** Bicubic resize of an NCHW tensor to outH × outW. */
export function resizeBicubic(x: F32Tensor, outH: number, outW: number, options: BicubicOptions = {}): F32Tensor {
  const [H, W] = dims(x);
  return resizeSeparable(x, bicubicWeights(H, outH, options), bicubicWeights(W, outW, options));
}

/** Area (box) resize of an NCHW tensor; meant for downscaling. */
export function resizeArea(x: F32Tensor, outH: number, outW: number): F32Tensor {
  const [H, W] = dims(x);
  return resizeSeparable(x, areaWeights(H, outH), areaWeights(W, outW));
}
