/**
 * Small test images generated at test time (no binary fixtures in the repo). Everything is made
 * with sharp except where the test needs bytes sharp will not produce: a PNG whose header lies
 * about its size, an ICC profile attached WITHOUT converting the pixels, an IPTC block.
 */
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

export type Rgb = readonly [number, number, number];

/** Raw interleaved 8-bit pixels of one colour. */
export function solid(width: number, height: number, colour: readonly number[]): Buffer {
  const out = Buffer.alloc(width * height * colour.length);
  for (let i = 0; i < width * height; i++) out.set(colour, i * colour.length);
  return out;
}

/** Four flat quadrants (TL red, TR green, BL blue, BR yellow): any rotation or mirror is visible. */
export const QUADRANT_COLOURS: readonly Rgb[] = [[220, 30, 30], [30, 200, 30], [30, 30, 220], [230, 220, 40]];
export function quadrants(width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const q = (y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1);
      out.set(QUADRANT_COLOURS[q]!, (y * width + x) * 3);
    }
  }
  return out;
}

/** A smooth colourful 8-bit gradient (lossless round trips must return it exactly). */
export function gradient8(width: number, height: number, channels: 3 | 4 = 3): Buffer {
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      out[i] = Math.round((x / (width - 1)) * 255);
      out[i + 1] = Math.round((y / (height - 1)) * 255);
      out[i + 2] = (x * 7 + y * 13) % 256;
      if (channels === 4) out[i + 3] = 255 - ((x + y) % 200);
    }
  }
  return out;
}

/** 16-bit samples using the low byte too, so an 8-bit detour would be caught. */
export function gradient16(width: number, height: number, channels: 3 | 4 = 3): Uint16Array {
  const out = new Uint16Array(width * height * channels);
  for (let i = 0; i < out.length; i++) out[i] = (i * 2741 + 13) % 65536;
  return out;
}

export async function jpegWithOrientation(orientation: number, width = 32, height = 16): Promise<Buffer> {
  return sharp(quadrants(width, height), { raw: { width, height, channels: 3 } })
    .withMetadata({ orientation })
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A PNG whose IHDR claims width × height but whose IDAT holds a few bytes: decoding it would
 * allocate width × height × bytes-per-pixel. colourType 2 = RGB, 6 = RGBA.
 */
export function lyingPngHeader(width: number, height: number, bitDepth: 8 | 16 = 8, colourType: 2 | 6 = 2): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(64))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Attach an ICC profile to a PNG without touching its pixel values (sharp always converts). */
export function tagPng(png: Buffer, icc: Buffer): Buffer {
  const iccp = pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]));
  return Buffer.concat([png.subarray(0, 33), iccp, png.subarray(33)]);
}

/** libvips's built-in profiles ('p3', 'srgb', 'cmyk'), as bytes. */
export async function builtinProfile(name: 'p3' | 'srgb' | 'cmyk'): Promise<Buffer> {
  const carrier = name === 'cmyk'
    ? await sharp(solid(1, 1, [0, 0, 0]), { raw: { width: 1, height: 1, channels: 3 } }).toColourspace('cmyk').withIccProfile('cmyk').jpeg().toBuffer()
    : await sharp(solid(1, 1, [0, 0, 0]), { raw: { width: 1, height: 1, channels: 3 } }).withIccProfile(name).png().toBuffer();
  const icc = (await sharp(carrier).metadata()).icc;
  if (!icc) throw new Error(`no ${name} profile`);
  return icc;
}

/** PNG (8 or 16-bit) whose stored RGB values are exactly `stored`, tagged Display P3. */
export async function p3Png(width: number, height: number, stored: Rgb, bitDepth: 8 | 16): Promise<Buffer> {
  const p3 = await builtinProfile('p3');
  if (bitDepth === 8) {
    const png = await sharp(solid(width, height, stored), { raw: { width, height, channels: 3 } }).png().toBuffer();
    return tagPng(png, p3);
  }
  const px = new Uint16Array(width * height * 3);
  for (let i = 0; i < width * height; i++) px.set(stored.map((v) => v * 257), i * 3);
  const png = await sharp(px, { raw: { width, height, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
  return tagPng(png, p3);
}

/** Independent reference for Display P3 → sRGB (both D65, sRGB transfer curve): no lcms involved. */
export function p3ToSrgb(stored: Rgb): Rgb {
  const lin = (v: number) => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const enc = (l: number) => { const c = Math.min(1, Math.max(0, l)); return 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055); };
  const [r, g, b] = stored.map(lin) as [number, number, number];
  // Linear P3-D65 → linear sRGB (derived from both primaries via XYZ).
  return [
    enc(1.2249401 * r - 0.2249404 * g),
    enc(-0.0420569 * r + 1.0420571 * g),
    enc(-0.0196376 * r - 0.0786361 * g + 1.0982735 * b),
  ];
}

export async function cmykJpeg(colour: Rgb, withProfile: boolean): Promise<Buffer> {
  let p = sharp(solid(16, 16, colour), { raw: { width: 16, height: 16, channels: 3 } }).toColourspace('cmyk');
  if (withProfile) p = p.withIccProfile('cmyk');
  return p.jpeg({ quality: 95 }).toBuffer();
}

/** Animated image, one flat colour per frame. */
export async function animated(format: 'gif' | 'webp', colours: readonly Rgb[], size = 8): Promise<Buffer> {
  const frames = Buffer.concat(colours.map((c) => solid(size, size, c)));
  const p = sharp(frames, { raw: { width: size, height: size * colours.length, channels: 3, pageHeight: size } });
  return format === 'gif' ? p.gif().toBuffer() : p.webp({ lossless: true }).toBuffer();
}

/** IPTC-IIM record 2 dataset (tag 1 byte, length 2 bytes) wrapped as JPEG APP13 expects. */
export function iptcApp13Payload(caption: string): Buffer {
  const text = Buffer.from(caption, 'utf8');
  const ds = Buffer.concat([Buffer.from([0x1c, 0x02, 0x78, text.length >> 8, text.length & 0xff]), text]);
  const res = Buffer.alloc(12);
  res.write('8BIM', 0, 'latin1');
  res.writeUInt16BE(0x0404, 4);
  res.writeUInt32BE(ds.length, 8);
  return Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), res, ds, ds.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** A JPEG with EXIF (Make, Artist, Orientation), XMP and IPTC, as a camera + DAM would leave it. */
export async function jpegWithAllMetadata(orientation: number, marker: string): Promise<Buffer> {
  const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`
    + `<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="${orientation}">`
    + `<dc:creator><rdf:Seq><rdf:li>${marker}</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>`;
  const jpeg = await sharp(quadrants(32, 16), { raw: { width: 32, height: 16, channels: 3 } })
    .withMetadata({ orientation })
    .withExifMerge({ IFD0: { Make: marker, Artist: marker } })
    .withXmp(xmp)
    .jpeg({ quality: 95 })
    .toBuffer();
  const app13 = iptcApp13Payload(marker);
  const seg = Buffer.alloc(4);
  seg.writeUInt16BE(0xffed, 0);
  seg.writeUInt16BE(app13.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), seg, app13, jpeg.subarray(2)]);
}
