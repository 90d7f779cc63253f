/** Between the data builders' planar [0, 1] images and the engine's NCHW [-1, 1] tensors. */
import sharp from 'sharp';
import { resizeBicubic } from '../../core/image/resize.ts';
import type { F32Tensor } from '../../core/tensor/ops.ts';
import { fromInterleavedU8 } from '../../training/data/image.ts';
import type { PlanarImage } from '../../training/data/image.ts';

/** An image file or encoded buffer as a planar sRGB image (alpha dropped). */
export async function decode(buf: Buffer | string): Promise<PlanarImage> {
  const { data, info } = await sharp(buf).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return fromInterleavedU8(data, info.width, info.height, 3);
}

/** [0, 1] CHW → [1, 3, H, W] in [-1, 1]. */
export function planarToModel(img: PlanarImage): F32Tensor {
  if (img.channels !== 3) throw new RangeError('expected RGB');
  const data = new Float32Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = 2 * (img.data[i] as number) - 1;
  return { data, shape: [1, 3, img.height, img.width] };
}

/** [1, 3, H, W] in [-1, 1] → [0, 1] CHW, clamped. */
export function modelToPlanar(x: F32Tensor): PlanarImage {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (n !== 1 || c !== 3) throw new RangeError(`expected [1, 3, H, W], got [${x.shape.join(', ')}]`);
  const data = new Float32Array(3 * h * w);
  for (let i = 0; i < data.length; i++) {
    const v = ((x.data[i] as number) + 1) / 2;
    data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return { width: w, height: h, channels: 3, data };
}

/** The bicubic row: the same bicubic upsampling that builds the restore condition (core/image/resize.ts). */
export function bicubicUpscale(lr: PlanarImage, scale: number): PlanarImage {
  const up = resizeBicubic(planarToModel(lr), lr.height * scale, lr.width * scale);
  return modelToPlanar(up);
}
