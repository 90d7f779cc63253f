import { crc32, deflateSync } from 'node:zlib';

// sharp's encoders only write EXIF/IPTC that libvips parsed from an input file; our input is raw
// pixels, so the original blocks are placed into the encoded container here. Only segment/chunk
// framing is touched, never compressed image data (JPEG: ITU T.81 B.1.1.4; PNG 3rd ed. §5.3,
// eXIf and iCCP; WebP RIFF container, "Extended file format").

const JPEG_SOI = 0xd8;
const JPEG_SOS = 0xda;
const JPEG_APP0 = 0xe0;
const JPEG_APP1 = 0xe1;
const JPEG_APP13 = 0xed;
/** A marker segment's length field counts itself (2 bytes) and is 16-bit. */
export const JPEG_MAX_SEGMENT_PAYLOAD = 0xffff - 2;

interface JpegSegment {
  marker: number;
  start: number;
  end: number;
}

function jpegHeaderSegments(jpeg: Buffer): JpegSegment[] {
  if (jpeg[0] !== 0xff || jpeg[1] !== JPEG_SOI) throw new Error('not a JPEG stream');
  const out: JpegSegment[] = [];
  let p = 2;
  while (p + 4 <= jpeg.length) {
    if (jpeg[p] !== 0xff) throw new Error('JPEG marker expected');
    const marker = jpeg[p + 1]!;
    if (marker === JPEG_SOS) break;
    const len = jpeg.readUInt16BE(p + 2);
    out.push({ marker, start: p, end: p + 2 + len });
    p += 2 + len;
  }
  return out;
}

function jpegSegment(marker: number, payload: Uint8Array): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/**
 * Put EXIF (TIFF part) and/or IPTC (APP13 payload) into a JPEG right after SOI/JFIF, replacing any
 * existing blocks of the same kind. Payloads over 65 533 bytes do not fit one segment: the caller
 * checks and reports.
 */
export function jpegWithMetadata(jpeg: Uint8Array, meta: { exifTiff?: Uint8Array; iptc?: Uint8Array }): Buffer {
  const src = Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
  const segments = jpegHeaderSegments(src);
  const isExif = (s: JpegSegment) => s.marker === JPEG_APP1 && src.toString('latin1', s.start + 4, s.start + 10) === 'Exif\0\0';
  const isIptc = (s: JpegSegment) => s.marker === JPEG_APP13;
  const drop = (s: JpegSegment) => (meta.exifTiff && isExif(s)) || (meta.iptc && isIptc(s));
  const insertAt = segments.length > 0 && segments[0]!.marker === JPEG_APP0 ? segments[0]!.end : 2;
  const added: Buffer[] = [];
  if (meta.exifTiff) added.push(jpegSegment(JPEG_APP1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), meta.exifTiff])));
  if (meta.iptc) {
    const iptc = Buffer.from(meta.iptc.buffer, meta.iptc.byteOffset, meta.iptc.byteLength);
    added.push(jpegSegment(JPEG_APP13, iptc.toString('latin1', 0, 14) === 'Photoshop 3.0\0' ? iptc : photoshopIptcResource(iptc)));
  }
  const parts: Buffer[] = [src.subarray(0, insertAt), ...added];
  let cursor = insertAt;
  for (const s of segments) {
    if (s.start < insertAt) continue;
    if (drop(s)) {
      parts.push(src.subarray(cursor, s.start));
      cursor = s.end;
    }
  }
  parts.push(src.subarray(cursor));
  return Buffer.concat(parts);
}

/** Wrap raw IPTC-IIM (as TIFF and PNG carry it) in the Photoshop image resource JPEG expects. */
function photoshopIptcResource(iim: Buffer): Buffer {
  const head = Buffer.alloc(14 + 4 + 2 + 2 + 4);
  head.write('Photoshop 3.0\0', 0, 'latin1');
  head.write('8BIM', 14, 'latin1');
  head.writeUInt16BE(0x0404, 18); // IPTC-NAA record
  head.writeUInt16BE(0, 20); // empty Pascal name, padded to even
  head.writeUInt32BE(iim.length, 22);
  return Buffer.concat([head, iim, iim.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * Insert eXIf and/or iCCP right after IHDR (both must precede IDAT), replacing existing ones; an
 * iCCP also drops sRGB/gAMA/cHRM, which would contradict it.
 */
export function pngWithMetadata(png: Uint8Array, meta: { exifTiff?: Uint8Array; icc?: Uint8Array }): Buffer {
  const src = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (src.length < 33 || src.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG stream');
  const dropTypes = new Set<string>();
  if (meta.exifTiff) dropTypes.add('eXIf');
  if (meta.icc) ['iCCP', 'sRGB', 'gAMA', 'cHRM'].forEach((t) => dropTypes.add(t));
  const parts: Buffer[] = [src.subarray(0, 33)];
  if (meta.icc) {
    // Name "ICC Profile", NUL, compression method 0 (zlib), then the compressed profile.
    parts.push(pngChunk('iCCP', Buffer.concat([Buffer.from('ICC Profile\0\0', 'latin1'), deflateSync(meta.icc)])));
  }
  if (meta.exifTiff) parts.push(pngChunk('eXIf', meta.exifTiff));
  let p = 33;
  while (p + 12 <= src.length) {
    const len = src.readUInt32BE(p);
    const type = src.toString('latin1', p + 4, p + 8);
    const end = p + 12 + len;
    if (!dropTypes.has(type)) parts.push(src.subarray(p, end));
    p = end;
  }
  return Buffer.concat(parts);
}

interface RiffChunk {
  fourcc: string;
  start: number;
  end: number;
}

function riffChunks(src: Buffer): RiffChunk[] {
  const out: RiffChunk[] = [];
  let p = 12;
  while (p + 8 <= src.length) {
    const size = src.readUInt32LE(p + 4);
    const end = Math.min(src.length, p + 8 + size + (size % 2));
    out.push({ fourcc: src.toString('latin1', p, p + 4), start: p, end });
    p = end;
  }
  return out;
}

function riffChunk(fourcc: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.write(fourcc, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

const VP8X_EXIF = 0x08;
const VP8X_ALPHA = 0x10;

/**
 * Add an EXIF chunk to a WebP file. A simple-format file (VP8/VP8L only) is upgraded to the
 * extended format, whose VP8X header announces the metadata; EXIF goes before XMP as the spec orders.
 */
export function webpWithExif(webp: Uint8Array, exifTiff: Uint8Array, size: { width: number; height: number; hasAlpha: boolean }): Buffer {
  const src = Buffer.from(webp.buffer, webp.byteOffset, webp.byteLength);
  if (src.toString('latin1', 0, 4) !== 'RIFF' || src.toString('latin1', 8, 12) !== 'WEBP') throw new Error('not a WebP stream');
  const chunks = riffChunks(src).filter((c) => c.fourcc !== 'EXIF');
  let vp8x: Buffer;
  const first = chunks[0];
  if (first?.fourcc === 'VP8X') {
    vp8x = Buffer.from(src.subarray(first.start, first.end));
    vp8x[8] = vp8x[8]! | VP8X_EXIF;
    chunks.shift();
  } else {
    const payload = Buffer.alloc(10);
    payload[0] = VP8X_EXIF | (size.hasAlpha ? VP8X_ALPHA : 0);
    payload.writeUIntLE(size.width - 1, 4, 3);
    payload.writeUIntLE(size.height - 1, 7, 3);
    vp8x = riffChunk('VP8X', payload);
  }
  const body: Buffer[] = [vp8x];
  const exif = riffChunk('EXIF', exifTiff);
  let placed = false;
  for (const c of chunks) {
    if (c.fourcc === 'XMP ' && !placed) {
      body.push(exif);
      placed = true;
    }
    body.push(src.subarray(c.start, c.end));
  }
  if (!placed) body.push(exif);
  const payload = Buffer.concat([Buffer.from('WEBP', 'latin1'), ...body]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}
