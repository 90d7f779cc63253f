/**
 * Planar float images used by the data builders: channels-first (CHW) Float32Array in [0, 1].
 * The builders work in [0, 1] because the degradation parameters (noise σ in 8-bit units / 255,
 * JPEG) are defined there; conversion to the [-1, 1] model range happens in the dataset reader.
 */
import sharp from 'sharp';
import { luma709 } from '../../core/image/filters.ts';

/** CHW float image, values nominally in [0, 1]. */
export interface PlanarImage {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

export function createImage(width: number, height: number, channels = 3): PlanarImage {
  if (!(width > 0 && height > 0 && channels > 0)) throw new RangeError(`bad image size ${width}x${height}x${channels}`);
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

export function cloneImage(img: PlanarImage): PlanarImage {
  return { width: img.width, height: img.height, channels: img.channels, data: img.data.slice() };
}

/** Interleaved 8-bit (HWC) → planar float [0, 1]. */
export function fromInterleavedU8(bytes: Uint8Array, width: number, height: number, channels: number): PlanarImage {
  const img = createImage(width, height, channels);
  const plane = width * height;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < channels; c++) img.data[c * plane + i] = (bytes[i * channels + c] as number) / 255;
  }
  return img;
}

/** Planar float → interleaved 8-bit with rounding and clamping. */
export function toInterleavedU8(img: PlanarImage): Uint8Array {
  const { width, height, channels, data } = img;
  const plane = width * height;
  const out = new Uint8Array(plane * channels);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < channels; c++) {
      const v = Math.round((data[c * plane + i] as number) * 255);
      out[i * channels + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

export function clamp01InPlace(img: PlanarImage): PlanarImage {
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    d[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return img;
}

/** Round to the 8-bit grid (what a PNG round trip would do), in place. */
export function quantize8InPlace(img: PlanarImage): PlanarImage {
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = Math.round((d[i] as number) * 255);
    d[i] = (v < 0 ? 0 : v > 255 ? 255 : v) / 255;
  }
  return img;
}

/** Copy a rectangle (must lie inside the image). */
export function cropImage(img: PlanarImage, left: number, top: number, width: number, height: number): PlanarImage {
  if (left < 0 || top < 0 || left + width > img.width || top + height > img.height) {
    throw new RangeError(`crop ${left},${top} ${width}x${height} outside ${img.width}x${img.height}`);
  }
  const out = createImage(width, height, img.channels);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < height; y++) {
      const src = c * img.width * img.height + (top + y) * img.width + left;
      out.data.set(img.data.subarray(src, src + width), c * width * height + y * width);
    }
  }
  return out;
}

export function flipHorizontal(img: PlanarImage): PlanarImage {
  const out = createImage(img.width, img.height, img.channels);
  const { width, height } = img;
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < height; y++) {
      const row = c * width * height + y * width;
      for (let x = 0; x < width; x++) out.data[row + x] = img.data[row + width - 1 - x] as number;
    }
  }
  return out;
}

/** Rec. 709 luma of an RGB image (one plane). */
export function luminance(img: PlanarImage): Float32Array {
  if (img.channels !== 3) throw new RangeError('luminance needs RGB');
  const n = img.width * img.height;
  const y = new Float32Array(n);
  const d = img.data;
  for (let i = 0; i < n; i++) y[i] = luma709(d[i] as number, d[n + i] as number, d[2 * n + i] as number);
  return y;
}

/** Write an 8-bit PNG (RGB for 3 channels, grey for 1). */
export async function writePng(img: PlanarImage, path: string): Promise<void> {
  const bytes = toInterleavedU8(img);
  const pipeline = sharp(bytes, { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 } });
  // without b-w, libvips writes single-channel input as RGB
  await (img.channels === 1 ? pipeline.toColourspace('b-w') : pipeline).png({ compressionLevel: 6 }).toFile(path);
}

/** Read any image sharp understands as planar RGB (alpha dropped, grey expanded). */
export async function readRgb(path: string): Promise<PlanarImage> {
  const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 3) return fromInterleavedU8(data, info.width, info.height, 3);
  const rgb = new Uint8Array(info.width * info.height * 3);
  for (let i = 0; i < info.width * info.height; i++) {
    const v = data[i * info.channels] as number;
    rgb[3 * i] = v;
    rgb[3 * i + 1] = v;
    rgb[3 * i + 2] = v;
  }
  return fromInterleavedU8(rgb, info.width, info.height, 3);
}

/** Read a single-channel 8-bit PNG (mask, depth) as a planar image with values in [0, 1]. */
export async function readGrey(path: string): Promise<PlanarImage> {
  const { data, info } = await sharp(path).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return fromInterleavedU8(data, info.width, info.height, 1);
}
