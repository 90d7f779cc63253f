/**
 * The engine's view of image files, on top of engineer I's image-io (decode with pixel limit,
 * EXIF orientation and ICC→sRGB; encode; atomic write). Maps their types to the store's and
 * their errors to contract error codes.
 */
import path from 'node:path';
import type { ImageFormat } from '../../contract/schemas.ts';
import { AtomicWriteError, decodeImage, encodeImageDetailed, ImageDecodeError, ImageEncodeError, saveImage } from '../image-io/index.ts';
import type { RgbImage } from '../image-io/index.ts';
import { JobError } from '../jobs/queue.ts';
import type { StoredImage } from './store.ts';

export type ImageSource = { path: string } | { bytes: Uint8Array; name?: string };

export interface EncodeRequest {
  format: ImageFormat;
  quality: number;
  keepMetadata: boolean;
  bitDepth: 8 | 16;
}

export interface SavedFile {
  path: string;
  bytes: number;
  keptOriginal?: { place: 'trash' | 'backup'; path: string };
}

export interface ImageCodec {
  decode(src: ImageSource): Promise<Omit<StoredImage, 'id'>>;
  encode(img: StoredImage, opts: EncodeRequest): Promise<{ bytes: Uint8Array; mime: string }>;
  /**
   * Encode and write atomically; refuses existing files unless `overwrite`, and an original (the
   * image's own source file, or `original` as the engine decided) unless also `replaceOriginal`,
   * in which case the original's bytes are kept first (see image-io/keep-original.ts).
   */
  save(img: StoredImage, opts: EncodeRequest & { path: string; overwrite: boolean; original: boolean; replaceOriginal: boolean }): Promise<SavedFile>;
}

const MIME: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  tiff: 'image/tiff',
  avif: 'image/avif',
};

export function createImageCodec(options: { maxPixels?: number } = {}): ImageCodec {
  const encode = async (img: StoredImage, opts: EncodeRequest) => {
    try {
      const res = await encodeImageDetailed(rgbImage(img), encodeOptions(img, opts));
      return { bytes: res.bytes, mime: MIME[opts.format] };
    } catch (err) {
      throw mapError(err);
    }
  };

  return {
    async decode(src) {
      let d;
      try {
        d = await decodeImage('path' in src ? src.path : src.bytes, { maxPixels: options.maxPixels });
      } catch (err) {
        if (err instanceof ImageDecodeError) throw new JobError(err.code === 'not-found' ? 'not-found' : 'decode-failed', err.message);
        throw err;
      }
      const name = 'path' in src ? path.basename(src.path) : (src.name ?? 'pasted image');
      const m = d.metadata;
      return {
        width: d.width,
        height: d.height,
        channels: d.channels,
        depth: d.bitDepth,
        pixels: d.data,
        metadata: {
          name,
          format: d.format,
          bitDepth: d.bitDepth,
          channels: d.channels,
          hasAlpha: d.hasAlpha,
          hadIcc: m.icc !== undefined,
          ...(m.orientation ? { orientation: m.orientation } : {}),
          hasMetadata: Boolean(m.exif || m.xmp || m.iptc),
          ...('bytes' in src ? { fileBytes: src.bytes.byteLength } : {}),
          ...(d.notes.length > 0 ? { notes: d.notes.slice(0, 16) } : {}),
        },
        carry: m,
        source: d.source,
      };
    },

    encode,

    async save(img, opts) {
      try {
        const res = await saveImage({ ...rgbImage(img), ...(img.source ? { source: img.source } : {}) }, opts.path, {
          ...encodeOptions(img, opts),
          overwrite: opts.overwrite,
          original: opts.original,
          replaceOriginal: opts.replaceOriginal,
        });
        return { path: res.path, bytes: res.bytes, ...(res.keptOriginal ? { keptOriginal: res.keptOriginal } : {}) };
      } catch (err) {
        throw mapError(err);
      }
    },
  };
}

function rgbImage(img: StoredImage): RgbImage {
  return {
    width: img.width,
    height: img.height,
    channels: img.channels,
    bitDepth: img.depth,
    data: img.pixels,
    ...(img.carry ? { metadata: img.carry } : {}),
  };
}

function encodeOptions(img: StoredImage, opts: EncodeRequest) {
  const lossless16 = opts.format === 'png' || opts.format === 'tiff';
  return {
    format: opts.format,
    quality: opts.quality,
    bitDepth: (lossless16 ? Math.min(opts.bitDepth, img.depth) : 8) as 8 | 16,
    keepMetadata: opts.keepMetadata,
  };
}

/** image-io errors → JobError with a contract code (the message is already for people). */
function mapError(err: unknown): unknown {
  if (err instanceof ImageEncodeError) return new JobError(err.code === 'invalid-options' ? 'invalid-request' : 'internal', err.message);
  if (err instanceof AtomicWriteError) {
    const code = err.code === 'exists' || err.code === 'is-source' ? 'exists' : err.code === 'is-original' ? 'is-original' : err.code === 'not-found' ? 'not-found' : 'io';
    return new JobError(code, err.message);
  }
  return err;
}
