/**
 * The "clean" ×4 input: an ordinary small photo, i.e. the target bicubic-downscaled
 * (antialiased, training/data/resample.ts, the same kernel as the held-out set's bicubic degrader)
 * and saved as JPEG at quality 95 (sharp/libvips defaults otherwise: 4:2:0 chroma, as cameras and
 * phones write it). Training data (make-twins.ts) and the held-out evaluation (build/eval/
 * restore-x4-eval.ts) both call this one function, so the two cannot drift apart.
 */
import sharp from 'sharp';
import type { PlanarImage } from '../../training/data/image.ts';
import { fromInterleavedU8, toInterleavedU8 } from '../../training/data/image.ts';
import { resize } from '../../training/data/resample.ts';

export const CLEAN_JPEG_QUALITY = 95;

/** JPEG round trip of an RGB image at `quality` (8-bit in, 8-bit out). */
export async function jpegRoundTrip(img: PlanarImage, quality: number): Promise<PlanarImage> {
  if (img.channels !== 3) throw new Error(`jpegRoundTrip needs RGB, got ${img.channels} channels`);
  const jpeg = await sharp(toInterleavedU8(img), { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(jpeg).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.width !== img.width || info.height !== img.height || info.channels !== 3) throw new Error('JPEG round trip changed the image geometry');
  return fromInterleavedU8(data, info.width, info.height, 3);
}

/** The clean low-res input of `hr` at ×`scale`: bicubic downscale, then JPEG at `quality`. */
export async function cleanJpegLowRes(hr: PlanarImage, scale: number, quality: number = CLEAN_JPEG_QUALITY): Promise<PlanarImage> {
  if (hr.width % scale !== 0 || hr.height % scale !== 0) throw new Error(`${hr.width}×${hr.height} is not a multiple of ×${scale}`);
  return jpegRoundTrip(resize(hr, hr.width / scale, hr.height / scale, 'bicubic'), quality);
}
