/**
 * Cut photographs out of the resource containers some Debian packages ship them in, without the
 * programs that made the containers:
 * - Enlightenment's `.edj` files are Eet archives (big-endian directory of named entries); edje
 *   stores a background's image as a plain JPEG entry (`edje/images/N`), often at several sizes.
 * - Qt's `.rcc` resource files hold a tree of named files, each optionally zlib- or zstd-compressed
 *   (`qCompress` format: 4-byte big-endian size, then a zlib stream).
 * Every member is validated by its own format's structure (JPEG markers up to EOI, RIFF size), so a
 * truncated or corrupt container yields a clear error rather than a half image.
 */
import { inflateSync } from 'node:zlib';

/** One named member of a container. */
export interface ContainerMember {
  name: string;
  data: Buffer;
}

const EET_MAGIC_FILE2 = 0x1ee70f42;
const EET_FLAG_COMPRESSED = 0x1;

/** One directory entry of an Eet archive. */
export interface EetEntry {
  name: string;
  offset: number;
  /** bytes stored in the file */
  size: number;
  /** bytes after decompression */
  dataSize: number;
  compressed: boolean;
}

/** Read the directory of an Eet (v2) archive. */
export function eetEntries(buf: Buffer): EetEntry[] {
  if (buf.length < 12 || buf.readUInt32BE(0) !== EET_MAGIC_FILE2) throw new Error('not an Eet archive (bad magic)');
  const count = buf.readUInt32BE(4);
  const dirEnd = 12 + 24 * count;
  if (dirEnd > buf.length) throw new Error(`Eet directory of ${count} entries runs past the end of the file`);
  const out: EetEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = 12 + 24 * i;
    const offset = buf.readUInt32BE(at);
    const size = buf.readUInt32BE(at + 4);
    const dataSize = buf.readUInt32BE(at + 8);
    const nameOffset = buf.readUInt32BE(at + 12);
    const nameSize = buf.readUInt32BE(at + 16);
    const flags = buf.readUInt32BE(at + 20);
    if (offset + size > buf.length || nameOffset + nameSize > buf.length) throw new Error(`Eet entry ${i} runs past the end of the file`);
    const name = buf.toString('utf8', nameOffset, nameOffset + nameSize).replace(/\0+$/, '');
    out.push({ name, offset, size, dataSize, compressed: (flags & EET_FLAG_COMPRESSED) !== 0 });
  }
  return out;
}

/**
 * Length of the JPEG stream starting at `start` (SOI … EOI), walking the marker segments so an
 * EOI inside metadata (an EXIF thumbnail) does not end it early; entropy-coded data is scanned for
 * the next marker (0xFF not followed by 0x00 or a restart marker).
 */
export function jpegStreamLength(buf: Buffer, start = 0): number {
  if (buf[start] !== 0xff || buf[start + 1] !== 0xd8) throw new Error('JPEG stream does not start with SOI');
  let p = start + 2;
  while (p + 1 < buf.length) {
    if (buf[p] !== 0xff) throw new Error(`JPEG marker expected at byte ${p - start}`);
    const marker = buf[p + 1] as number;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0xd9) return p + 2 - start;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2;
      continue;
    }
    if (p + 3 >= buf.length) break;
    const len = buf.readUInt16BE(p + 2);
    p += 2 + len;
    if (marker === 0xda) {
      // entropy-coded data follows the scan header: skip to the next real marker
      while (p + 1 < buf.length && !(buf[p] === 0xff && buf[p + 1] !== 0x00 && !((buf[p + 1] as number) >= 0xd0 && (buf[p + 1] as number) <= 0xd7))) p++;
    }
  }
  throw new Error('JPEG stream ends without EOI (truncated)');
}

/**
 * The JPEG images of an `.edj` file: uncompressed Eet entries under `edje/images/` that hold a
 * complete JPEG stream. Entries of other kinds (compressed edje data, raw ARGB images) are skipped.
 */
export function edjJpegs(buf: Buffer): ContainerMember[] {
  const out: ContainerMember[] = [];
  for (const e of eetEntries(buf)) {
    if (!e.name.startsWith('edje/images/') || e.compressed) continue;
    if (buf[e.offset] !== 0xff || buf[e.offset + 1] !== 0xd8) continue;
    const length = jpegStreamLength(buf.subarray(e.offset, e.offset + e.size));
    out.push({ name: e.name, data: Buffer.from(buf.subarray(e.offset, e.offset + length)) });
  }
  return out;
}

const RCC_DIRECTORY = 0x02;
const RCC_COMPRESSED = 0x01;
const RCC_COMPRESSED_ZSTD = 0x04;

/** Every file of a Qt `.rcc` resource file, with its full path inside the resource tree. */
export function rccFiles(buf: Buffer): ContainerMember[] {
  if (buf.length < 20 || buf.toString('latin1', 0, 4) !== 'qres') throw new Error('not a Qt resource file (bad magic)');
  const version = buf.readUInt32BE(4);
  if (version < 1 || version > 3) throw new Error(`unsupported rcc version ${version}`);
  const tree = buf.readUInt32BE(8);
  const data = buf.readUInt32BE(12);
  const names = buf.readUInt32BE(16);
  const nodeSize = version >= 2 ? 22 : 14;
  const nameAt = (offset: number): string => {
    const at = names + offset;
    const len = buf.readUInt16BE(at);
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(buf.readUInt16BE(at + 6 + 2 * i));
    return s;
  };
  const out: ContainerMember[] = [];
  const visit = (index: number, prefix: string, depth: number): void => {
    if (depth > 64) throw new Error('rcc tree too deep (corrupt file)');
    const at = tree + index * nodeSize;
    if (at + nodeSize > buf.length) throw new Error(`rcc node ${index} runs past the end of the file`);
    const flags = buf.readUInt16BE(at + 4);
    const name = index === 0 ? '' : nameAt(buf.readUInt32BE(at));
    const path = prefix && name ? `${prefix}/${name}` : prefix || name;
    if (flags & RCC_DIRECTORY) {
      const count = buf.readUInt32BE(at + 6);
      const first = buf.readUInt32BE(at + 10);
      for (let c = 0; c < count; c++) visit(first + c, path, depth + 1);
      return;
    }
    const dataAt = data + buf.readUInt32BE(at + 10);
    const size = buf.readUInt32BE(dataAt);
    if (dataAt + 4 + size > buf.length) throw new Error(`rcc file ${path} runs past the end of the file`);
    let bytes = buf.subarray(dataAt + 4, dataAt + 4 + size);
    if (flags & RCC_COMPRESSED_ZSTD) return; // no zstd decoder in Node; Debian's gcompris uses zlib or none
    if (flags & RCC_COMPRESSED) bytes = inflateSync(bytes.subarray(4));
    out.push({ name: path, data: Buffer.from(bytes) });
  };
  visit(0, '', 0);
  return out;
}

/** True when `data` is one complete RIFF/WEBP file (its RIFF size matches the bytes). */
export function isCompleteWebp(data: Buffer): boolean {
  return data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP' && data.readUInt32LE(4) + 8 === data.length;
}
