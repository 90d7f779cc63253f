import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { ImageDecodeError } from './errors.ts';
import { iccColourSpace, iccDescription, isSrgbProfile } from './icc.ts';
import { sniffImageFormat } from './sniff.ts';
import type { DecodedImage, ImageFormat, ImageMetadata } from './types.ts';

/** 100 megapixels: above every camera in common use, below what libpng fuzzers still accept (1e8). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export interface DecodeOptions {
  /** Largest width × height accepted, checked from the file header before any pixel is decoded. 0 = no limit. */
  maxPixels?: number;
}

const FORMAT_NAMES: Record<ImageFormat, string> = {
  jpeg: 'JPEG', png: 'PNG', webp: 'WebP', tiff: 'TIFF', avif: 'AVIF', heif: 'HEIF', gif: 'GIF',
};
const LOADERS = new Set<string>(['jpeg', 'png', 'webp', 'tiff', 'heif', 'gif']);

/**
 * Decode an image file (path) or its bytes into upright, sRGB, interleaved pixels.
 *
 * - Format comes from the bytes; the name is only used in messages.
 * - The pixel limit is checked from the header, before decoding (decompression bombs).
 * - EXIF orientation is applied once, here; `metadata.orientation` keeps the original value.
 * - Embedded ICC profiles (RGB or CMYK) are converted to sRGB; CMYK without a profile uses a
 *   generic CMYK profile. 16-bit PNG/TIFF stay 16-bit (Uint16Array). Grey becomes RGB.
 * - Animated GIF/WebP and multi-page TIFF give their first frame; HEIF its primary image.
 *
 * Every failure is an ImageDecodeError (code + human message); nothing else escapes.
 */
export async function decodeImage(input: Uint8Array | string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isFinite(maxPixels) || maxPixels < 0) throw new RangeError(`maxPixels must be ≥ 0, got ${maxPixels}`);
  const path = typeof input === 'string' ? input : undefined;
  const label = path ? `"${path}"` : 'The image';
  const bytes = path ? await readSource(path) : input as Uint8Array;

  if (bytes.length === 0) throw new ImageDecodeError('empty', `${label} is empty (0 bytes).`);
  const sniffed = sniffImageFormat(bytes);
  if (!sniffed) {
    const ext = path ? extname(path).slice(1).toLowerCase() : '';
    const hint = ext ? ` The name ends in ".${ext}", but the content is not a ${ext.toUpperCase()} image.` : '';
    throw new ImageDecodeError('unsupported-format',
      `${label} is not an image this app can open (JPEG, PNG, WebP, TIFF, AVIF, HEIF or GIF).${hint}`);
  }

  // Header only: libvips reads dimensions without allocating pixels. The limit is ours, so
  // sharp's own is off here and set again (to ours) for the decode below.
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (e) {
    throw toDecodeError(e, sniffed, bytes, label);
  }
  if (!LOADERS.has(meta.format)) {
    throw new ImageDecodeError('unsupported-format', `${label} looks like ${FORMAT_NAMES[sniffed]} but could not be read as one.`);
  }
  const format: ImageFormat = meta.format === 'heif' ? (meta.compression === 'av1' ? 'avif' : 'heif') : meta.format as ImageFormat;
  if (format === 'heif' && meta.compression === 'hevc') {
    // The prebuilt libvips carries no HEVC decoder (patents); say so before trying.
    throw new ImageDecodeError('unsupported-format',
      `${label} is a HEIC (HEVC) image, which this build cannot decode. Convert it to JPEG or AVIF first.`);
  }
  const pixels = meta.width * meta.height;
  if (maxPixels > 0 && pixels > maxPixels) {
    throw new ImageDecodeError('too-large',
      `${label} is ${meta.width} × ${meta.height} pixels (${mp(pixels)} megapixels), above the ${mp(maxPixels)} megapixel limit; it was not decoded.`);
  }

  const notes: string[] = [];
  const depth = meta.depth === 'uchar' || meta.depth === 'char' ? 8 : 16;
  const icc = meta.icc;
  const iccName = icc ? iccDescription(icc) : undefined;
  const iccSpace = icc ? iccColourSpace(icc) : undefined;
  const pages = meta.pages ?? 1;
  const page = format === 'heif' || format === 'avif' ? meta.pagePrimary ?? 0 : 0;

  // sharp converts an embedded profile to its processing space on load, and that space is P3
  // (not sRGB) for 16-bit RGB images. Asking for an sRGB output profile brings those back; an
  // sRGB-tagged 16-bit file is read as is, which skips a lossy sRGB→P3→sRGB round trip.
  const rgb16Tagged = depth === 16 && icc !== undefined && iccSpace === 'RGB';
  const ignoreIcc = depth === 16 && icc !== undefined && (isSrgbProfile(icc) || iccSpace !== 'RGB') && meta.space !== 'cmyk';
  let pipeline = sharp(bytes, {
    limitInputPixels: maxPixels > 0 ? maxPixels : false,
    failOn: 'error',
    page,
    pages: 1,
    ignoreIcc,
  }).autoOrient();
  if (rgb16Tagged && !ignoreIcc) pipeline = pipeline.withIccProfile('srgb');
  pipeline = pipeline.toColourspace(depth === 16 ? 'rgb16' : 'srgb');

  let data: Buffer;
  let info: sharp.OutputInfo;
  try {
    ({ data, info } = await pipeline.raw(depth === 16 ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw toDecodeError(e, sniffed, bytes, label);
  }
  if (info.channels !== 3 && info.channels !== 4) {
    throw new ImageDecodeError('corrupt', `${label} decoded to ${info.channels} channels, expected RGB or RGBA.`);
  }

  const orientation = meta.orientation;
  const grey = meta.channels <= 2 && meta.space !== 'cmyk';
  if (orientation && orientation !== 1) notes.push(`Rotated upright from EXIF orientation ${orientation}.`);
  if (meta.space === 'cmyk') {
    notes.push(icc ? `CMYK converted to sRGB with the embedded profile${iccName ? ` "${iccName}"` : ''}.`
      : 'CMYK converted to sRGB with a generic CMYK profile (the file has none); colours are approximate.');
  } else if (icc && iccSpace === 'RGB' && !isSrgbProfile(icc)) {
    notes.push(`Converted from the embedded colour profile${iccName ? ` "${iccName}"` : ''} to sRGB.`);
  } else if (!icc && !grey) {
    notes.push('No embedded colour profile: treated as sRGB.');
  }
  if (grey) notes.push('Greyscale expanded to RGB.');
  if (meta.depth !== 'uchar' && meta.depth !== 'char' && meta.depth !== 'ushort') notes.push(`Samples of type ${meta.depth} converted to 16-bit.`);
  if (pages > 1) {
    notes.push(format === 'gif' || format === 'webp'
      ? `Animated ${FORMAT_NAMES[format]} with ${pages} frames: only the first frame was imported.`
      : format === 'tiff' ? `Multi-page TIFF with ${pages} pages: only the first page was imported.`
        : `HEIF container with ${pages} images: the primary image was imported.`);
  }

  const metadata: ImageMetadata = {};
  if (meta.exif) metadata.exif = meta.exif;
  if (icc) metadata.icc = icc;
  if (meta.xmp) metadata.xmp = meta.xmp;
  if (meta.iptc) metadata.iptc = meta.iptc;
  if (orientation) metadata.orientation = orientation;
  if (meta.density) metadata.density = meta.density;
  if (iccName) metadata.iccDescription = iccName;

  return {
    width: info.width,
    height: info.height,
    channels: info.channels,
    bitDepth: depth,
    data: depth === 16 ? asUint16(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    hasAlpha: info.channels === 4,
    format,
    metadata,
    notes,
    source: {
      ...(path ? { path } : {}),
      width: meta.width,
      height: meta.height,
      space: meta.space,
      bitDepth: meta.bitsPerSample ?? depth,
      channels: meta.channels,
      pages,
    },
  };
}

function mp(pixels: number): string {
  return (pixels / 1e6).toFixed(pixels >= 1e7 ? 0 : 1);
}

function asUint16(b: Buffer): Uint16Array {
  if (b.byteOffset % 2 === 0) return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Uint16Array(copy.buffer);
}

async function readSource(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageDecodeError('not-found', `"${path}" does not exist.`, { cause: e });
    if (code === 'EISDIR') throw new ImageDecodeError('unreadable', `"${path}" is a folder, not an image file.`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM') throw new ImageDecodeError('unreadable', `"${path}" cannot be read (permission denied).`, { cause: e });
    if (code === 'ERR_FS_FILE_TOO_LARGE') throw new ImageDecodeError('too-large', `"${path}" is larger than 2 GiB.`, { cause: e });
    throw new ImageDecodeError('unreadable', `"${path}" cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

/** A decoder that stops early on a file lacking its end marker was looking at a cut-off file. */
function missingTrailer(format: ImageFormat, b: Uint8Array): boolean {
  const n = b.length;
  if (format === 'jpeg') return !(n >= 2 && b[n - 2] === 0xff && b[n - 1] === 0xd9);
  if (format === 'png') return !(n >= 12 && String.fromCharCode(b[n - 8]!, b[n - 7]!, b[n - 6]!, b[n - 5]!) === 'IEND');
  return false;
}

function toDecodeError(e: unknown, format: ImageFormat, bytes: Uint8Array, label: string): ImageDecodeError {
  const msg = e instanceof Error ? e.message : String(e);
  const name = FORMAT_NAMES[format];
  if (/exceeds pixel limit/i.test(msg)) {
    return new ImageDecodeError('too-large', `${label} is larger than the pixel limit; it was not decoded.`, { cause: e });
  }
  if (/premature end|end of stream|truncated|unexpected end|not enough data/i.test(msg) || missingTrailer(format, bytes)) {
    return new ImageDecodeError('truncated', `${label} is an incomplete ${name} file (it ends too early; the download or copy may have been cut off).`, { cause: e });
  }
  if (/unsupported image format/i.test(msg)) {
    return new ImageDecodeError('unsupported-format', `${label} is not an image this app can open.`, { cause: e });
  }
  return new ImageDecodeError('corrupt', `${label} is a damaged ${name} file and could not be decoded (${msg.split('\n')[0]}).`, { cause: e });
}
