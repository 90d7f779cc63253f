/**
 * Resizing with PyTorch `F.interpolate` semantics (align_corners = False, no antialias), since
 * Real-ESRGAN's degradation draws its resize mode from {area, bilinear, bicubic} of that function:
 * - area = adaptive average pooling (window [floor(i·in/out), ceil((i+1)·in/out)));
 * - bilinear = 2-tap, bicubic = 4-tap Keys cubic with a = −0.75, edge pixels replicated.
 * Separable: rows first, then columns.
 */
import { createImage } from './image.ts';
import type { PlanarImage } from './image.ts';

export type ResizeMode = 'area' | 'bilinear' | 'bicubic';
export const RESIZE_MODES: readonly ResizeMode[] = ['area', 'bilinear', 'bicubic'];

/** Per-output-sample taps of one axis: `taps` entries per sample in index/weight arrays. */
interface AxisTaps {
  taps: number;
  index: Int32Array;
  weight: Float32Array;
}

function cubic(x: number, a = -0.75): number {
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

function axisTaps(inSize: number, outSize: number, mode: ResizeMode): AxisTaps {
  const clampIdx = (i: number): number => (i < 0 ? 0 : i >= inSize ? inSize - 1 : i);
  if (mode === 'area') {
    let taps = 1;
    for (let i = 0; i < outSize; i++) {
      const s = Math.floor((i * inSize) / outSize);
      const e = Math.ceil(((i + 1) * inSize) / outSize);
      taps = Math.max(taps, e - s);
    }
    const index = new Int32Array(outSize * taps);
    const weight = new Float32Array(outSize * taps);
    for (let i = 0; i < outSize; i++) {
      const s = Math.floor((i * inSize) / outSize);
      const e = Math.ceil(((i + 1) * inSize) / outSize);
      for (let k = 0; k < taps; k++) {
        index[i * taps + k] = clampIdx(s + k);
        weight[i * taps + k] = s + k < e ? 1 / (e - s) : 0;
      }
    }
    return { taps, index, weight };
  }
  const taps = mode === 'bilinear' ? 2 : 4;
  const index = new Int32Array(outSize * taps);
  const weight = new Float32Array(outSize * taps);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const src = (i + 0.5) * scale - 0.5;
    if (mode === 'bilinear') {
      // PyTorch clamps the source coordinate at 0 for linear modes
      const s = Math.max(src, 0);
      const i0 = Math.floor(s);
      const f = s - i0;
      index[i * 2] = clampIdx(i0);
      index[i * 2 + 1] = clampIdx(i0 + 1);
      weight[i * 2] = 1 - f;
      weight[i * 2 + 1] = f;
    } else {
      const i0 = Math.floor(src);
      const f = src - i0;
      for (let k = 0; k < 4; k++) {
        index[i * 4 + k] = clampIdx(i0 - 1 + k);
        weight[i * 4 + k] = cubic(f - (k - 1));
      }
    }
  }
  return { taps, index, weight };
}

/** Resize every channel to outWidth × outHeight. */
export function resize(img: PlanarImage, outWidth: number, outHeight: number, mode: ResizeMode): PlanarImage {
  const w = Math.max(1, Math.round(outWidth));
  const h = Math.max(1, Math.round(outHeight));
  if (w === img.width && h === img.height) return { ...img, data: img.data.slice() };
  const tx = axisTaps(img.width, w, mode);
  const ty = axisTaps(img.height, h, mode);
  const tmp = new Float32Array(img.height * w);
  const out = createImage(w, h, img.channels);
  for (let c = 0; c < img.channels; c++) {
    const src = img.data.subarray(c * img.width * img.height, (c + 1) * img.width * img.height);
    for (let y = 0; y < img.height; y++) {
      const row = y * img.width;
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let k = 0; k < tx.taps; k++) acc += (tx.weight[x * tx.taps + k] as number) * (src[row + (tx.index[x * tx.taps + k] as number)] as number);
        tmp[y * w + x] = acc;
      }
    }
    const dst = c * w * h;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let k = 0; k < ty.taps; k++) acc += (ty.weight[y * ty.taps + k] as number) * (tmp[(ty.index[y * ty.taps + k] as number) * w + x] as number);
        out.data[dst + y * w + x] = acc;
      }
    }
  }
  return out;
}
