/**
 * Stored images (interleaved 8- or 16-bit, RGB or RGBA) ⇄ the model's float NCHW in [-1, 1],
 * on top of core/tensor/layout.ts. Alpha never goes through the model; it travels beside.
 */
import { nchwToU16Hwc, nchwToU8Hwc, u16HwcToNchw, u8HwcToNchw } from '../../../core/tensor/layout.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import type { StoredImage } from './store.ts';

/** RGB planes [1, 3, H, W] in [-1, 1]. */
export function imageToNchw(img: StoredImage): F32Tensor {
  return img.depth === 16
    ? u16HwcToNchw(img.pixels as Uint16Array, img.height, img.width, img.channels)
    : u8HwcToNchw(img.pixels as Uint8Array, img.height, img.width, img.channels);
}

/** Alpha plane [1, 1, H, W] in [0, 1], or null for RGB images. */
export function alphaPlane(img: StoredImage): F32Tensor | null {
  if (img.channels !== 4) return null;
  const plane = img.width * img.height;
  const max = img.depth === 16 ? 65535 : 255;
  const out = new Float32Array(plane);
  for (let i = 0; i < plane; i++) out[i] = (img.pixels[i * 4 + 3] as number) / max;
  return { data: out, shape: [1, 1, img.height, img.width] };
}

/** Quantise [1, 3, H, W] in [-1, 1] (+ optional alpha in [0, 1]) to interleaved pixels of `depth`. */
export function nchwToPixels(rgb: F32Tensor, alpha: F32Tensor | null, depth: 8 | 16): { pixels: Uint8Array | Uint16Array; channels: 3 | 4 } {
  const channels = alpha ? 4 : 3;
  const pixels = depth === 16 ? nchwToU16Hwc(rgb, channels) : nchwToU8Hwc(rgb, channels);
  if (alpha) {
    const max = depth === 16 ? 65535 : 255;
    for (let i = 0; i < alpha.data.length; i++) {
      const a = alpha.data[i] as number;
      pixels[i * 4 + 3] = Math.round((a > 1 ? 1 : a >= 0 ? a : 0) * max);
    }
  }
  return { pixels, channels };
}
