/** Container formats decodeImage accepts (detected from the bytes, never from the file name). */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'avif' | 'heif' | 'gif';

/** Container formats encodeImage writes. */
export type OutputFormat = 'png' | 'jpeg' | 'webp' | 'tiff' | 'avif';

/** Metadata carried from the source file, raw, so that export can keep it byte for byte. */
export interface ImageMetadata {
  /** EXIF block as the decoder found it (for JPEG it starts with "Exif\0\0"). */
  exif?: Buffer;
  /** The ORIGINAL embedded ICC profile; the pixels have already been converted from it to sRGB. */
  icc?: Buffer;
  /** XMP packet (UTF-8 XML). */
  xmp?: Buffer;
  /** IPTC block (for JPEG the whole "Photoshop 3.0" APP13 payload). */
  iptc?: Buffer;
  /** EXIF orientation of the source (1–8); the pixels are already upright. */
  orientation?: number;
  /** Pixels per inch, when the file records it. */
  density?: number;
  /** Human-readable name of the original ICC profile, e.g. "Display P3". */
  iccDescription?: string;
}

/**
 * Interleaved sRGB pixels, the input of encodeImage. Rows top to bottom, channels RGB or RGBA,
 * alpha straight (not premultiplied). 8-bit data is a Uint8Array, 16-bit data a Uint16Array.
 */
export interface RgbImage {
  width: number;
  height: number;
  channels: 3 | 4;
  bitDepth: 8 | 16;
  data: Uint8Array | Uint16Array;
  metadata?: ImageMetadata;
}

/** What the source file was before import normalised it (for UI and job records). */
export interface SourceInfo {
  /** File path when decoded from a path; saveImage refuses to overwrite it unless asked. */
  path?: string;
  /** Stored size, before EXIF orientation. */
  width: number;
  height: number;
  /** libvips colour-space name of the stored pixels: srgb, rgb16, cmyk, b-w, grey16… */
  space: string;
  /** Bits per sample as stored. */
  bitDepth: number;
  /** Channels as stored (CMYK = 4, grey = 1…). */
  channels: number;
  /** Frames or pages in the file; only the first (or the HEIF primary image) is decoded. */
  pages: number;
}

/** Result of decodeImage: upright, sRGB, 3 or 4 channels, 8 or 16 bits. */
export interface DecodedImage extends RgbImage {
  hasAlpha: boolean;
  format: ImageFormat;
  metadata: ImageMetadata;
  /** Everything import changed or assumed, in plain words (rotation, colour conversion, dropped frames). */
  notes: string[];
  source: SourceInfo;
}
