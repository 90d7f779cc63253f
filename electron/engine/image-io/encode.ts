import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { JPEG_MAX_SEGMENT_PAYLOAD, jpegWithMetadata, pngWithMetadata, webpWithExif } from './containers.ts';
import { ImageEncodeError } from './errors.ts';
import { exifForExport, xmpForExport } from './exif.ts';
import { iccColourSpace, iccDescription } from './icc.ts';
import type { OutputFormat, RgbImage } from './types.ts';

/**
 * How the output is colour-tagged. Pixels handed to the encoder are always sRGB.
 * - 'srgb': pixels stay sRGB, the sRGB profile is embedded.
 * - 'convert-back': pixels are converted to the source's original RGB profile, which is embedded;
 *   without one (or with a CMYK/grey one) this is 'srgb'.
 * - 'keep-original': like 'convert-back' (the original profile bytes are embedded and the pixels
 *   converted so they are right under it), except that a source with no profile stays untagged,
 *   as it was.
 */
export type IccMode = 'keep-original' | 'srgb' | 'convert-back';

export interface EncodeOptions {
  format: OutputFormat;
  /** 1–100 for JPEG/WebP/AVIF (defaults 92/90/60); ignored by the lossless PNG/TIFF. */
  quality?: number;
  /** PNG/TIFF only; defaults to the image's own depth (8 for the other formats). */
  bitDepth?: 8 | 16;
  /** Copy the source's EXIF/XMP/IPTC (orientation reset to 1, stale thumbnail removed) or strip all. */
  keepMetadata: boolean;
  /** Default 'srgb'. */
  iccMode?: IccMode;
}

export interface EncodeResult {
  bytes: Uint8Array;
  /** What could not be honoured (metadata a format cannot carry, alpha flattened…), in plain words. */
  notes: string[];
}

const DEFAULT_QUALITY = { jpeg: 92, webp: 90, avif: 60 } as const;

/** Encode sRGB pixels; see encodeImageDetailed for what was dropped. */
export async function encodeImage(img: RgbImage, opts: EncodeOptions): Promise<Uint8Array> {
  return (await encodeImageDetailed(img, opts)).bytes;
}

/** Encode sRGB pixels and report anything the chosen format could not keep. */
export async function encodeImageDetailed(img: RgbImage, opts: EncodeOptions): Promise<EncodeResult> {
  validateImage(img);
  const { format } = opts;
  const lossless16 = format === 'png' || format === 'tiff';
  const outDepth = opts.bitDepth ?? (lossless16 ? img.bitDepth : 8);
  if (outDepth !== 8 && outDepth !== 16) throw new ImageEncodeError('invalid-options', `bitDepth must be 8 or 16, got ${String(outDepth)}.`);
  if (outDepth === 16 && !lossless16) throw new ImageEncodeError('invalid-options', `${format.toUpperCase()} cannot be written with 16 bits per sample; use PNG or TIFF.`);
  if (opts.quality !== undefined && !(Number.isInteger(opts.quality) && opts.quality >= 1 && opts.quality <= 100)) {
    throw new ImageEncodeError('invalid-options', `quality must be an integer from 1 to 100, got ${opts.quality}.`);
  }

  const notes: string[] = [];
  const target = resolveProfile(opts.iccMode ?? 'srgb', img.metadata?.icc, notes);
  const pixels = changeDepth(img.data, img.bitDepth, outDepth);
  const raw = { raw: { width: img.width, height: img.height, channels: img.channels } } as const;
  const meta = opts.keepMetadata ? img.metadata : undefined;

  let tempDir: string | undefined;
  try {
    let profilePath: string | undefined;
    if (target.kind === 'profile') {
      // sharp takes output profiles by file name only.
      tempDir = await mkdtemp(join(tmpdir(), 'codi-icc-'));
      profilePath = join(tempDir, 'output.icc');
      await writeFile(profilePath, target.icc);
    }

    let pipeline: Sharp;
    if (outDepth === 8) {
      pipeline = sharp(pixels, raw);
      if (target.kind === 'srgb') pipeline = pipeline.withIccProfile('srgb');
      if (profilePath) pipeline = pipeline.withIccProfile(profilePath);
    } else if (target.kind === 'none') {
      pipeline = sharp(pixels, raw).toColourspace('rgb16');
    } else {
      // sharp treats raw 16-bit input as being in its 16-bit working space (Display P3), and an
      // output profile would then be applied to the wrong colours. A lossless 16-bit PNG carrying
      // an explicit sRGB profile avoids that: kept as is for 'srgb' (exact samples), or converted
      // from that profile to the target (libvips/lcms, within about 1/180 of full scale).
      const carrier = pngWithMetadata(
        await sharp(pixels, raw).toColourspace('rgb16').png({ compressionLevel: 0 }).toBuffer(),
        { icc: await srgbProfile() },
      );
      pipeline = profilePath
        ? sharp(carrier).withIccProfile(profilePath).toColourspace('rgb16')
        : sharp(carrier).keepIccProfile().toColourspace('rgb16');
    }

    if (img.channels === 4 && format === 'jpeg') {
      pipeline = pipeline.flatten({ background: '#ffffff' });
      notes.push('JPEG has no transparency: the image was flattened onto white.');
    }
    const xmp = meta?.xmp ? xmpForExport(meta.xmp) : undefined;
    if (xmp) pipeline = pipeline.withXmp(xmp);
    pipeline = withFormat(pipeline, format, opts.quality);

    let bytes: Buffer = await pipeline.toBuffer();
    if (meta) bytes = addExifAndIptc(bytes, format, img, meta, notes);
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), notes };
  } catch (e) {
    if (e instanceof ImageEncodeError) throw e;
    throw new ImageEncodeError('encoder-failed', `Could not encode ${format.toUpperCase()}: ${(e as Error).message}`, { cause: e });
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

type Profile = { kind: 'none' } | { kind: 'srgb' } | { kind: 'profile'; icc: Buffer };

function resolveProfile(mode: IccMode, original: Buffer | undefined, notes: string[]): Profile {
  if (mode === 'srgb') return { kind: 'srgb' };
  if (mode !== 'keep-original' && mode !== 'convert-back') throw new ImageEncodeError('invalid-options', `Unknown iccMode "${String(mode)}".`);
  if (!original) return mode === 'keep-original' ? { kind: 'none' } : { kind: 'srgb' };
  if (iccColourSpace(original) !== 'RGB') {
    const name = iccDescription(original);
    notes.push(`The original colour profile${name ? ` "${name}"` : ''} is not an RGB profile; sRGB was embedded instead.`);
    return { kind: 'srgb' };
  }
  return { kind: 'profile', icc: original };
}

function withFormat(p: Sharp, format: OutputFormat, quality: number | undefined): Sharp {
  switch (format) {
    case 'jpeg': return p.jpeg({ quality: quality ?? DEFAULT_QUALITY.jpeg });
    case 'webp': return p.webp({ quality: quality ?? DEFAULT_QUALITY.webp });
    case 'avif': return p.avif({ quality: quality ?? DEFAULT_QUALITY.avif });
    case 'png': return p.png();
    // sharp's TIFF default is JPEG compression (lossy, 8-bit only): an editor's TIFF must be lossless.
    case 'tiff': return p.tiff({ compression: 'deflate', predictor: 'horizontal' });
    default: throw new ImageEncodeError('invalid-options', `Unknown output format "${String(format)}".`);
  }
}

function addExifAndIptc(bytes: Buffer, format: OutputFormat, img: RgbImage, meta: NonNullable<RgbImage['metadata']>, notes: string[]): Buffer {
  let exif = meta.exif ? exifForExport(meta.exif, img) : undefined;
  if (meta.exif && !exif) notes.push('The EXIF block was malformed and was not copied.');
  let iptc = meta.iptc;
  if (format === 'jpeg') {
    if (exif && exif.length + 6 > JPEG_MAX_SEGMENT_PAYLOAD) {
      notes.push('EXIF larger than 64 KB does not fit a JPEG segment and was not copied.');
      exif = undefined;
    }
    if (iptc && iptc.length + 26 > JPEG_MAX_SEGMENT_PAYLOAD) {
      notes.push('IPTC larger than 64 KB was not copied.');
      iptc = undefined;
    }
    return exif || iptc ? jpegWithMetadata(bytes, { exifTiff: exif, iptc }) : bytes;
  }
  if (iptc) notes.push(`${format.toUpperCase()} output does not carry IPTC here; IPTC was not copied (XMP usually repeats it).`);
  if (!exif) return bytes;
  if (format === 'png') return pngWithMetadata(bytes, { exifTiff: exif });
  if (format === 'webp') return webpWithExif(bytes, exif, { width: img.width, height: img.height, hasAlpha: img.channels === 4 });
  notes.push(`${format.toUpperCase()} output does not carry EXIF here; EXIF was not copied.`);
  return bytes;
}

function validateImage(img: RgbImage): void {
  const { width, height, channels, bitDepth, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageEncodeError('invalid-image', `Image size must be positive integers, got ${width} × ${height}.`);
  }
  if (channels !== 3 && channels !== 4) throw new ImageEncodeError('invalid-image', `Image must have 3 or 4 channels, got ${String(channels)}.`);
  if (bitDepth === 8 ? !(data instanceof Uint8Array) : bitDepth === 16 ? !(data instanceof Uint16Array) : true) {
    throw new ImageEncodeError('invalid-image', `A ${String(bitDepth)}-bit image needs ${bitDepth === 16 ? 'a Uint16Array' : 'a Uint8Array'} of samples.`);
  }
  if (data.length !== width * height * channels) {
    throw new ImageEncodeError('invalid-image', `Expected ${width * height * channels} samples for ${width} × ${height} × ${channels}, got ${data.length}.`);
  }
}

/**
 * 8↔16-bit rescaling done here, not by libvips: its sRGB→RGB16 conversion is not the exact ×257
 * (measured: 1 → 511, 3 → 1023), and 16→8 must round, not truncate.
 */
export function changeDepth(data: Uint8Array | Uint16Array, from: 8 | 16, to: 8 | 16): Uint8Array | Uint16Array {
  if (from === to) return data;
  if (to === 16) {
    const out = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i]! * 257;
    return out;
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round(data[i]! / 257);
  return out;
}

let srgbProfileBytes: Promise<Buffer> | undefined;

/** libvips's built-in sRGB profile, read once from a 1-pixel encode (sharp has no direct accessor). */
function srgbProfile(): Promise<Buffer> {
  srgbProfileBytes ??= (async () => {
    const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).withIccProfile('srgb').png().toBuffer();
    const icc = (await sharp(png).metadata()).icc;
    if (!icc) throw new Error('sharp did not embed its sRGB profile');
    return icc;
  })();
  srgbProfileBytes.catch(() => { srgbProfileBytes = undefined; });
  return srgbProfileBytes;
}
