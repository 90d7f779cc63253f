/**
 * Mask ⇄ image pixels for saving a mask as a PNG and loading one back. Saved masks are grey
 * (R = G = B = mask value, opaque), which every editor shows as the mask itself. On load a
 * picture with real transparency is read from its alpha channel (a cut-out), anything else
 * from its luminance (white = fill).
 */
import { luma709 } from '../../../core/image/filters.ts';

/** Grey opaque RGBA of a mask (ImageData layout). */
export function maskToRgba(mask: Uint8Array, width: number, height: number): Uint8ClampedArray<ArrayBuffer> {
  if (mask.length !== width * height) throw new Error(`mask has ${mask.length} bytes, expected ${width * height}`);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] as number;
    const o = i * 4;
    out[o] = v;
    out[o + 1] = v;
    out[o + 2] = v;
    out[o + 3] = 255;
  }
  return out;
}

/** Mask values from RGBA pixels: alpha when any pixel is translucent, else Rec. 709 luma. */
export function rgbaToMask(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  if (rgba.length !== width * height * 4) throw new Error(`RGBA has ${rgba.length} bytes, expected ${width * height * 4}`);
  const n = width * height;
  let translucent = false;
  for (let i = 3; i < rgba.length; i += 4) {
    if ((rgba[i] as number) < 255) {
      translucent = true;
      break;
    }
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    out[i] = translucent
      ? (rgba[o + 3] as number)
      : Math.round(luma709(rgba[o] as number, rgba[o + 1] as number, rgba[o + 2] as number));
  }
  return out;
}
