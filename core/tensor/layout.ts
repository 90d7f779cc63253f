/**
 * Pixel layouts: interleaved HWC integer images (what decoders, canvases and sharp give) ↔
 * float32 NCHW in [−1, 1] (what every model sees), pixel (un)shuffle for the
 * "pixel-unshuffle" latent codec (channel = c·r² + dy·r + dx, PyTorch order), crop and pad.
 *
 * The pixel loops index typed arrays within the loop's own bounds (checked against the shape up
 * front), so their element reads are cast `as number` instead of checked one by one.
 */
import { luma601 } from '../image/filters.ts';
import type { F32Tensor } from './ops.ts';

/** Channels of an interleaved integer image: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
export type HwcChannels = 1 | 2 | 3 | 4;

function checkHwc(len: number, height: number, width: number, channels: HwcChannels): void {
  if (len !== height * width * channels) {
    throw new RangeError(`pixel buffer has ${len} values, expected ${height}×${width}×${channels}`);
  }
}

function intHwcToNchw(src: ArrayLike<number>, height: number, width: number, channels: HwcChannels, maxValue: number): F32Tensor {
  checkHwc(src.length, height, width, channels);
  const colour = channels >= 3 ? 3 : 1; // alpha is dropped
  const plane = height * width;
  const out = new Float32Array(colour * plane);
  const k = 2 / maxValue;
  for (let c = 0; c < colour; c++) {
    const o = c * plane;
    for (let i = 0, s = c; i < plane; i++, s += channels) out[o + i] = (src[s] as number) * k - 1;
  }
  return { data: out, shape: [1, colour, height, width] };
}

/**
 * 8-bit interleaved image → [1, 3, H, W] (RGB/RGBA; alpha dropped) or [1, 1, H, W] (grey,
 * grey+alpha), value v ↦ v/127.5 − 1.
 */
export function u8HwcToNchw(src: Uint8Array | Uint8ClampedArray, height: number, width: number, channels: HwcChannels): F32Tensor {
  return intHwcToNchw(src, height, width, channels, 255);
}

/** 16-bit interleaved image → NCHW in [−1, 1] (v ↦ v/32767.5 − 1); channels as {@link u8HwcToNchw}. */
export function u16HwcToNchw(src: Uint16Array, height: number, width: number, channels: HwcChannels): F32Tensor {
  return intHwcToNchw(src, height, width, channels, 65535);
}

function nchwToIntHwc<A extends Uint8Array | Uint16Array>(x: F32Tensor, channels: HwcChannels, batchIndex: number, out: A, maxValue: number): A {
  const [B, C, H, W] = shape4(x);
  if (batchIndex < 0 || batchIndex >= B) throw new RangeError(`batch index ${batchIndex} outside [0, ${B})`);
  const colour = channels >= 3 ? 3 : 1;
  if (C !== colour && !(C === 1 && colour === 3)) throw new RangeError(`cannot write ${C} channels as ${channels}-channel pixels`);
  const plane = H * W;
  const base = batchIndex * C * plane;
  const half = maxValue / 2;
  for (let c = 0; c < colour; c++) {
    const src = base + (C === 1 ? 0 : c) * plane;
    for (let i = 0, d = c; i < plane; i++, d += channels) {
      const v = Math.round(((x.data[src + i] as number) + 1) * half);
      out[d] = v > maxValue ? maxValue : v >= 0 ? v : 0; // NaN → 0
    }
  }
  if (channels === 2 || channels === 4) {
    for (let i = 0, d = channels - 1; i < plane; i++, d += channels) out[d] = maxValue; // opaque
  }
  return out;
}

/**
 * NCHW in [−1, 1] → 8-bit interleaved ((v+1)·127.5 rounded half-to-even, clamped to [0, 255],
 * NaN → 0; alpha = 255).
 * A 1-channel tensor written as 3/4 channels is replicated into R, G and B. For ImageData use
 * `new Uint8ClampedArray(out.buffer)`.
 */
export function nchwToU8Hwc(x: F32Tensor, channels: HwcChannels = 4, batchIndex = 0): Uint8Array {
  const [B, C, H, W] = shape4(x);
  if (batchIndex < 0 || batchIndex >= B) throw new RangeError(`batch index ${batchIndex} outside [0, ${B})`);
  const colour = channels >= 3 ? 3 : 1;
  if (C !== colour && !(C === 1 && colour === 3)) throw new RangeError(`cannot write ${C} channels as ${channels}-channel pixels`);
  // Uint8ClampedArray stores round-half-even(clamp(v)) natively (NaN → 0), the fast path here
  const out = new Uint8ClampedArray(H * W * channels);
  const plane = H * W;
  const base = batchIndex * C * plane;
  const d = x.data;
  for (let c = 0; c < colour; c++) {
    const src = base + (C === 1 ? 0 : c) * plane;
    for (let i = 0, o = c; i < plane; i++, o += channels) out[o] = ((d[src + i] as number) + 1) * 127.5;
  }
  if (channels === 2 || channels === 4) for (let o = channels - 1; o < out.length; o += channels) out[o] = 255;
  return new Uint8Array(out.buffer);
}

/** NCHW in [−1, 1] → 16-bit interleaved (round((v+1)·32767.5), clamped). */
export function nchwToU16Hwc(x: F32Tensor, channels: HwcChannels = 3, batchIndex = 0): Uint16Array {
  const [, , H, W] = shape4(x);
  return nchwToIntHwc(x, channels, batchIndex, new Uint16Array(H * W * channels), 65535);
}

/** RGB → grey (ITU-R BT.601 luma) per batch item: [B, 3, H, W] → [B, 1, H, W]. */
export function rgbToGrey(x: F32Tensor): F32Tensor {
  const [B, C, H, W] = shape4(x);
  if (C !== 3) throw new RangeError(`rgbToGrey needs 3 channels, got ${C}`);
  const plane = H * W;
  const out = new Float32Array(B * plane);
  for (let b = 0; b < B; b++) {
    const s = b * 3 * plane;
    for (let i = 0; i < plane; i++) {
      out[b * plane + i] = luma601(x.data[s + i] as number, x.data[s + plane + i] as number, x.data[s + 2 * plane + i] as number);
    }
  }
  return { data: out, shape: [B, 1, H, W] };
}

/**
 * 8-bit mask (first channel of each pixel) → [1, 1, H, W] with 1 where v ≥ threshold (fill)
 * and 0 elsewhere (keep).
 */
export function u8MaskToNchw(src: Uint8Array | Uint8ClampedArray, height: number, width: number, channels: HwcChannels = 1, threshold = 128): F32Tensor {
  checkHwc(src.length, height, width, channels);
  const out = new Float32Array(height * width);
  for (let i = 0, s = 0; i < out.length; i++, s += channels) out[i] = (src[s] as number) >= threshold ? 1 : 0;
  return { data: out, shape: [1, 1, height, width] };
}

/** The four dims of an NCHW tensor (throws for other ranks). */
export function shape4(x: F32Tensor): [number, number, number, number] {
  if (x.shape.length !== 4) throw new RangeError(`expected NCHW, got shape [${x.shape.join(', ')}]`);
  return x.shape as [number, number, number, number];
}

/**
 * Space-to-depth: [B, C, H, W] → [B, C·r², H/r, W/r], out[b, c·r² + dy·r + dx, i, j] =
 * x[b, c, i·r + dy, j·r + dx] (torch.nn.functional.pixel_unshuffle).
 */
export function pixelUnshuffle(x: F32Tensor, r: number): F32Tensor {
  const [B, C, H, W] = shape4(x);
  if (!Number.isInteger(r) || r < 1 || H % r || W % r) throw new RangeError(`pixelUnshuffle: ${H}×${W} is not divisible by ${r}`);
  const h = H / r;
  const w = W / r;
  const out = new Float32Array(x.data.length);
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const src = (b * C + c) * H * W;
      for (let dy = 0; dy < r; dy++) {
        for (let dx = 0; dx < r; dx++) {
          for (let i = 0; i < h; i++) {
            let s = src + (i * r + dy) * W + dx;
            for (let j = 0; j < w; j++, s += r) out[o++] = x.data[s] as number;
          }
        }
      }
    }
  }
  return { data: out, shape: [B, C * r * r, h, w] };
}

/** Depth-to-space, the exact inverse of {@link pixelUnshuffle}: [B, C·r², h, w] → [B, C, h·r, w·r]. */
export function pixelShuffle(x: F32Tensor, r: number): F32Tensor {
  const [B, Cr, h, w] = shape4(x);
  if (!Number.isInteger(r) || r < 1 || Cr % (r * r)) throw new RangeError(`pixelShuffle: ${Cr} channels not divisible by ${r}²`);
  const C = Cr / (r * r);
  const H = h * r;
  const W = w * r;
  const out = new Float32Array(x.data.length);
  let s = 0;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const dst = (b * C + c) * H * W;
      for (let dy = 0; dy < r; dy++) {
        for (let dx = 0; dx < r; dx++) {
          for (let i = 0; i < h; i++) {
            let d = dst + (i * r + dy) * W + dx;
            for (let j = 0; j < w; j++, d += r) out[d] = x.data[s++] as number;
          }
        }
      }
    }
  }
  return { data: out, shape: [B, C, H, W] };
}

/** Copy the window [top, top+height) × [left, left+width) of every plane. */
export function crop(x: F32Tensor, top: number, left: number, height: number, width: number): F32Tensor {
  const [B, C, H, W] = shape4(x);
  if (top < 0 || left < 0 || height < 0 || width < 0 || top + height > H || left + width > W) {
    throw new RangeError(`crop ${height}×${width} at (${top}, ${left}) outside ${H}×${W}`);
  }
  const out = new Float32Array(B * C * height * width);
  for (let p = 0; p < B * C; p++) {
    for (let y = 0; y < height; y++) {
      const s = p * H * W + (top + y) * W + left;
      out.set(x.data.subarray(s, s + width), (p * height + y) * width);
    }
  }
  return { data: out, shape: [B, C, height, width] };
}

export type PadMode = 'reflect' | 'edge' | 'zero';

export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Source index for position i outside [0, n): mirror without repeating the edge (numpy 'reflect'), folded as often as needed. */
function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

function buildIndex(n: number, before: number, after: number, mode: PadMode): Int32Array {
  const idx = new Int32Array(n + before + after);
  for (let k = 0; k < idx.length; k++) {
    const i = k - before;
    if (i >= 0 && i < n) idx[k] = i;
    else if (mode === 'reflect') idx[k] = reflectIndex(i, n);
    else if (mode === 'edge') idx[k] = i < 0 ? 0 : n - 1;
    else idx[k] = -1;
  }
  return idx;
}

/** Pad every plane of an NCHW tensor. */
export function pad(x: F32Tensor, p: Padding, mode: PadMode = 'reflect'): F32Tensor {
  const [B, C, H, W] = shape4(x);
  for (const v of [p.top, p.bottom, p.left, p.right]) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError('padding must be non-negative integers');
  }
  const OH = H + p.top + p.bottom;
  const OW = W + p.left + p.right;
  const iy = buildIndex(H, p.top, p.bottom, mode);
  const ix = buildIndex(W, p.left, p.right, mode);
  const out = new Float32Array(B * C * OH * OW);
  for (let q = 0; q < B * C; q++) {
    const src = q * H * W;
    for (let y = 0; y < OH; y++) {
      const sy = iy[y] as number;
      if (sy < 0) continue;
      const row = src + sy * W;
      const d = (q * OH + y) * OW;
      out.set(x.data.subarray(row, row + W), d + p.left);
      const fill = (xx: number) => {
        const sx = ix[xx] as number;
        if (sx >= 0) out[d + xx] = x.data[row + sx] as number;
      };
      for (let xx = 0; xx < p.left; xx++) fill(xx);
      for (let xx = p.left + W; xx < OW; xx++) fill(xx);
    }
  }
  return { data: out, shape: [B, C, OH, OW] };
}

/** Pad bottom/right so H and W become multiples of `multiple`; returns the padding used (crop it off afterwards). */
export function padToMultiple(x: F32Tensor, multiple: number, mode: PadMode = 'reflect'): { tensor: F32Tensor; padding: Padding } {
  const [, , H, W] = shape4(x);
  const padding: Padding = { top: 0, left: 0, bottom: roundUp(H, multiple) - H, right: roundUp(W, multiple) - W };
  return { tensor: padding.bottom || padding.right ? pad(x, padding, mode) : x, padding };
}

/** Smallest multiple of m that is ≥ n. */
export function roundUp(n: number, m: number): number {
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`multiple must be a positive integer, got ${m}`);
  return Math.ceil(n / m) * m;
}

/** Concatenate NCHW tensors along channels (same B, H, W). */
export function concatChannels(parts: readonly F32Tensor[]): F32Tensor {
  const [first] = parts;
  if (!first) throw new RangeError('concatChannels: nothing to concatenate');
  const [B, , H, W] = shape4(first);
  let C = 0;
  for (const t of parts) {
    const [b, c, h, w] = shape4(t);
    if (b !== B || h !== H || w !== W) throw new RangeError('concatChannels: batch/height/width differ');
    C += c;
  }
  const plane = H * W;
  const out = new Float32Array(B * C * plane);
  for (let b = 0; b < B; b++) {
    let off = b * C * plane;
    for (const t of parts) {
      const c = shape4(t)[1];
      out.set(t.data.subarray(b * c * plane, (b + 1) * c * plane), off);
      off += c * plane;
    }
  }
  return { data: out, shape: [B, C, H, W] };
}
