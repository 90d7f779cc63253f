// sharp can only add EXIF as string key/value pairs (withExif), which loses binary tags, maker
// notes and GPS rationals. To keep the source's EXIF byte for byte, export copies the original
// TIFF-structured block and patches the few fields that the edit made wrong (TIFF 6.0 §2, Exif 2.3 §4.6).

const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');
const TAG_ORIENTATION = 0x0112;
const TAG_EXIF_IFD = 0x8769;
const TAG_PIXEL_X = 0xa002;
const TAG_PIXEL_Y = 0xa003;
const TYPE_SHORT = 3;
const TYPE_LONG = 4;

/** The TIFF-structured part of an EXIF block (drops a leading "Exif\0\0" when present). */
export function exifTiffPart(exif: Uint8Array): Buffer {
  const b = Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength);
  return b.subarray(0, 6).equals(EXIF_PREFIX) ? b.subarray(6) : b;
}

interface TiffReader {
  le: boolean;
  u16(at: number): number;
  u32(at: number): number;
  set16(at: number, v: number): void;
  set32(at: number, v: number): void;
}

function reader(t: Buffer): TiffReader | undefined {
  if (t.length < 8) return undefined;
  const order = t.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const r: TiffReader = {
    le,
    u16: (at) => (le ? t.readUInt16LE(at) : t.readUInt16BE(at)),
    u32: (at) => (le ? t.readUInt32LE(at) : t.readUInt32BE(at)),
    set16: (at, v) => void (le ? t.writeUInt16LE(v, at) : t.writeUInt16BE(v, at)),
    set32: (at, v) => void (le ? t.writeUInt32LE(v, at) : t.writeUInt32BE(v, at)),
  };
  return r.u16(2) === 42 ? r : undefined;
}

/** Visit the entries of the IFD at `ifd`; returns the offset of its next-IFD pointer, or -1 if malformed. */
function walkIfd(t: Buffer, r: TiffReader, ifd: number, visit: (entry: number, tag: number, type: number, count: number) => void): number {
  if (ifd < 8 || ifd + 2 > t.length) return -1;
  const n = r.u16(ifd);
  const end = ifd + 2 + 12 * n;
  if (end + 4 > t.length) return -1;
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + 12 * i;
    visit(e, r.u16(e), r.u16(e + 2), r.u32(e + 4));
  }
  return end;
}

function setScalar(r: TiffReader, entry: number, type: number, count: number, value: number): void {
  if (count !== 1) return;
  if (type === TYPE_SHORT) r.set16(entry + 8, value);
  else if (type === TYPE_LONG) r.set32(entry + 8, value);
}

/**
 * A copy of the EXIF block fit for the exported pixels: Orientation = 1 (pixels are upright),
 * PixelXDimension/PixelYDimension = the new size, and the IFD1 thumbnail unlinked (it shows the
 * unedited picture). Returns the TIFF part without the "Exif\0\0" prefix, or undefined if the
 * block is not valid TIFF.
 */
export function exifForExport(exif: Uint8Array, size: { width: number; height: number }): Buffer | undefined {
  const t = Buffer.from(exifTiffPart(exif)); // copy: never patch the caller's buffer
  const r = reader(t);
  if (!r) return undefined;
  let exifIfd = 0;
  const next = walkIfd(t, r, r.u32(4), (e, tag, type, count) => {
    if (tag === TAG_ORIENTATION) setScalar(r, e, type, count, 1);
    if (tag === TAG_EXIF_IFD && count === 1) exifIfd = r.u32(e + 8);
  });
  if (next < 0) return undefined;
  r.set32(next, 0);
  if (exifIfd) {
    walkIfd(t, r, exifIfd, (e, tag, type, count) => {
      if (tag === TAG_PIXEL_X) setScalar(r, e, type, count, size.width);
      if (tag === TAG_PIXEL_Y) setScalar(r, e, type, count, size.height);
    });
  }
  return t;
}

/** The Orientation value in an EXIF block, if any (used by tests and diagnostics). */
export function exifOrientation(exif: Uint8Array): number | undefined {
  const t = exifTiffPart(exif);
  const r = reader(t);
  if (!r) return undefined;
  let found: number | undefined;
  walkIfd(t, r, r.u32(4), (e, tag, type) => {
    if (tag === TAG_ORIENTATION) found = type === TYPE_SHORT ? r.u16(e + 8) : r.u32(e + 8);
  });
  return found;
}

/** XMP can repeat the orientation (tiff:Orientation); keep it consistent with the upright pixels. */
export function xmpForExport(xmp: Uint8Array): string {
  return Buffer.from(xmp.buffer, xmp.byteOffset, xmp.byteLength)
    .toString('utf8')
    .replace(/(tiff:Orientation\s*=\s*["'])\d(["'])/g, '$11$2')
    .replace(/(<tiff:Orientation>)\s*\d\s*(<\/tiff:Orientation>)/g, '$11$2');
}
