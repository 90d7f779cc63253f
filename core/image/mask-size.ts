/**
 * What happens to a mask whose size differs from the image's: ONE rule for the editor (a mask
 * picture loaded into the app) and the engine (a mask sent with a job, which is what
 * `codi run inpaint --mask` does), so a mask file is treated the same wherever it is used.
 *
 * A mask of the image's shape at another resolution (drawn on a downscaled copy, say) is scaled
 * to the image and the user is told; a mask of another shape is refused with both sizes, since
 * stretching it would move its area off the part of the photo it was drawn over.
 */
import { resizeBicubic } from './resize.ts';

export interface PixelSize {
  readonly width: number;
  readonly height: number;
}

export type MaskFit =
  | { readonly kind: 'same' }
  | { readonly kind: 'scale'; readonly note: string }
  | { readonly kind: 'refuse'; readonly message: string };

/**
 * Same shape = scaling the mask to the image moves no side by more than one pixel (the rounding
 * of an exact downscale, e.g. 1333 × 1000 for 4000 × 3000).
 */
export function maskFit(mask: PixelSize, image: PixelSize): MaskFit {
  const sizes = `the mask is ${mask.width}×${mask.height} but the image is ${image.width}×${image.height}`;
  if (mask.width === image.width && mask.height === image.height) return { kind: 'same' };
  const widthAtImageHeight = (mask.width * image.height) / mask.height;
  const heightAtImageWidth = (mask.height * image.width) / mask.width;
  if (Math.abs(widthAtImageHeight - image.width) <= 1 && Math.abs(heightAtImageWidth - image.height) <= 1) {
    return { kind: 'scale', note: `${sizes}: same shape, so the mask was scaled to ${image.width}×${image.height}` };
  }
  return { kind: 'refuse', message: `${sizes}, a different shape: make the mask at the image's size (or the same shape)` };
}

/**
 * An 8-bit one-byte-per-pixel mask scaled to `to` (bicubic, antialiased when shrinking; values
 * stay 0…255 so soft edges survive and a hard mask still thresholds at 128 where it was drawn).
 */
export function resizeMask(data: Uint8Array | Uint8ClampedArray, from: PixelSize, to: PixelSize): Uint8Array {
  if (data.length !== from.width * from.height) throw new RangeError(`mask has ${data.length} bytes, expected ${from.width}×${from.height}`);
  const src = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) src[i] = data[i] as number;
  const out = resizeBicubic({ data: src, shape: [1, 1, from.height, from.width] }, to.height, to.width).data;
  const bytes = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) bytes[i] = Math.min(255, Math.max(0, Math.round(out[i] as number)));
  return bytes;
}
