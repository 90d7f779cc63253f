import { describe, it, expect } from 'vitest';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { edjJpegs, eetEntries, isCompleteWebp, jpegStreamLength, rccFiles } from './containers.ts';

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

async function jpeg(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).jpeg({ quality: 90 }).toBuffer();
}

/** An Eet v2 archive: magic, counts, 24-byte directory entries, names, then the entries' data. */
function eet(entries: { name: string; data: Buffer; flags?: number }[]): Buffer {
  const header = 12 + 24 * entries.length;
  const names = Buffer.concat(entries.map((e) => Buffer.from(`${e.name}\0`)));
  let nameAt = header;
  let dataAt = header + names.length;
  const dir: Buffer[] = [];
  for (const e of entries) {
    dir.push(u32(dataAt), u32(e.data.length), u32(e.data.length), u32(nameAt), u32(e.name.length + 1), u32(e.flags ?? 0));
    nameAt += e.name.length + 1;
    dataAt += e.data.length;
  }
  return Buffer.concat([u32(0x1ee70f42), u32(entries.length), u32(0), ...dir, names, ...entries.map((e) => e.data)]);
}

/** A version-3 Qt rcc: root dir → "res" dir → files; names UTF-16BE with a length and hash. */
function rcc(files: { name: string; data: Buffer; zlib?: boolean }[]): Buffer {
  const nameBlob: Buffer[] = [];
  let nameLen = 0;
  const addName = (s: string): number => {
    const at = nameLen;
    const b = Buffer.concat([u16(s.length), u32(0), Buffer.from(s, 'utf16le').swap16()]);
    nameBlob.push(b);
    nameLen += b.length;
    return at;
  };
  const dataBlob: Buffer[] = [];
  let dataLen = 0;
  const node = (nameOff: number, flags: number, a: Buffer, b: Buffer): Buffer => Buffer.concat([u32(nameOff), u16(flags), a, b, Buffer.alloc(8)]);
  const nodes: Buffer[] = [node(0, 0x02, u32(1), u32(1)), node(addName('res'), 0x02, u32(files.length), u32(2))];
  for (const f of files) {
    const payload = f.zlib ? Buffer.concat([u32(f.data.length), deflateSync(f.data)]) : f.data;
    nodes.push(node(addName(f.name), f.zlib ? 0x01 : 0, Buffer.alloc(4), u32(dataLen)));
    const chunk = Buffer.concat([u32(payload.length), payload]);
    dataBlob.push(chunk);
    dataLen += chunk.length;
  }
  const headerLen = 24;
  const treeAt = headerLen;
  const tree = Buffer.concat(nodes);
  const dataAt = treeAt + tree.length;
  const namesAt = dataAt + dataLen;
  return Buffer.concat([Buffer.from('qres'), u32(3), u32(treeAt), u32(dataAt), u32(namesAt), u32(1), tree, ...dataBlob, ...nameBlob]);
}

describe('JPEG streams', () => {
  it('ends at the real EOI, not at one inside a metadata segment', async () => {
    const img = await jpeg(16, 8, [200, 40, 40]);
    // an APP1 segment carrying bytes FF D9 (as an EXIF thumbnail would) right after SOI
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1]), u16(8), Buffer.from([0xff, 0xd9, 0xff, 0xd9, 0, 0])]);
    const withApp = Buffer.concat([img.subarray(0, 2), app1, img.subarray(2)]);
    const trailing = Buffer.concat([withApp, Buffer.from('trailing bytes')]);
    expect(jpegStreamLength(trailing)).toBe(withApp.length);
    expect((await sharp(trailing.subarray(0, jpegStreamLength(trailing))).metadata()).width).toBe(16);
    expect(() => jpegStreamLength(withApp.subarray(0, withApp.length - 10))).toThrow(/EOI|truncated/);
    expect(() => jpegStreamLength(Buffer.from('not a jpeg'))).toThrow(/SOI/);
  });
});

describe('Eet (.edj) archives', () => {
  it('lists entries and cuts out the JPEG images, skipping compressed and non-image entries', async () => {
    const big = await jpeg(64, 32, [10, 200, 10]);
    const small = await jpeg(16, 8, [10, 200, 10]);
    const file = eet([
      { name: 'edje/images/1', data: small },
      { name: 'edje/file', data: Buffer.from('compressed edje data'), flags: 1 },
      { name: 'edje/images/0', data: Buffer.concat([big, Buffer.from([0, 0, 0])]) },
      { name: 'edje/images/2', data: Buffer.from('raw ARGB pixels') },
    ]);
    expect(eetEntries(file).map((e) => [e.name, e.compressed])).toEqual([
      ['edje/images/1', false],
      ['edje/file', true],
      ['edje/images/0', false],
      ['edje/images/2', false],
    ]);
    const jpegs = edjJpegs(file);
    expect(jpegs.map((j) => j.name)).toEqual(['edje/images/1', 'edje/images/0']);
    expect(jpegs[1]?.data.equals(big)).toBe(true);
    expect((await sharp(jpegs[1]?.data).metadata()).width).toBe(64);
  });

  it('rejects a file that is not Eet or whose directory is cut off', () => {
    expect(() => eetEntries(Buffer.from('qres0000000000000000'))).toThrow(/magic/);
    const file = eet([{ name: 'edje/images/0', data: Buffer.alloc(10) }]);
    expect(() => eetEntries(file.subarray(0, 20))).toThrow(/past the end/);
  });
});

describe('Qt resource (.rcc) files', () => {
  it('walks the tree and returns stored and zlib-compressed files with their paths', async () => {
    const webp = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#3366cc' } }).webp({ quality: 50 }).toBuffer();
    const text = Buffer.from('import QtQuick 2.12\n'.repeat(20));
    const files = rccFiles(rcc([
      { name: 'photo.webp', data: webp },
      { name: 'Main.qml', data: text, zlib: true },
    ]));
    expect(files.map((f) => f.name)).toEqual(['res/photo.webp', 'res/Main.qml']);
    expect(files[0]?.data.equals(webp)).toBe(true);
    expect(isCompleteWebp(files[0]?.data as Buffer)).toBe(true);
    expect(isCompleteWebp((files[0]?.data as Buffer).subarray(0, 20))).toBe(false);
    expect(files[1]?.data.equals(text)).toBe(true);
    expect((await sharp(files[0]?.data).metadata()).width).toBe(20);
  });

  it('rejects a file that is not rcc, or is cut short', () => {
    expect(() => rccFiles(Buffer.from('RIFF0000WEBP00000000'))).toThrow(/magic/);
    const file = rcc([{ name: 'a.webp', data: Buffer.alloc(100, 1) }]);
    expect(() => rccFiles(file.subarray(0, 60))).toThrow(/past the end|out of range/);
  });
});
