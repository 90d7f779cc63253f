import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { builtinProfile, gradient16, gradient8, jpegWithAllMetadata, p3Png } from '../../../tests/fixtures-gen/image-corpus.ts';
import { decodeImage } from './decode.ts';
import { changeDepth, encodeImage, encodeImageDetailed } from './encode.ts';
import { ImageEncodeError } from './errors.ts';
import { exifOrientation } from './exif.ts';
import { iccDescription } from './icc.ts';
import type { OutputFormat, RgbImage } from './types.ts';

function rgb8(width: number, height: number, channels: 3 | 4 = 3): RgbImage {
  return { width, height, channels, bitDepth: 8, data: new Uint8Array(gradient8(width, height, channels)) };
}

function smooth8(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([40 + Math.round((x / width) * 170), 60 + Math.round((y / height) * 150), 120], (y * width + x) * 3);
    }
  }
  return { width, height, channels: 3, bitDepth: 8, data };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function meanDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

async function encodeError(img: RgbImage, opts: Parameters<typeof encodeImage>[1]): Promise<ImageEncodeError> {
  try {
    await encodeImage(img, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ImageEncodeError);
    return e as ImageEncodeError;
  }
  throw new Error('encodeImage did not fail');
}

describe('encodeImage: round trips', () => {
  // Mean absolute error allowed after encode → decode at quality 95 (0 = lossless, checked sample by sample).
  const tolerance: Record<OutputFormat, number> = { png: 0, tiff: 0, jpeg: 2, webp: 2, avif: 3 };
  for (const format of Object.keys(tolerance) as OutputFormat[]) {
    it(`${format}: 8-bit RGB comes back${tolerance[format] ? ' close' : ' exactly'} and tagged sRGB`, async () => {
      // Lossy codecs are judged on smooth content, where quality 95 must be nearly invisible.
      const img = tolerance[format] === 0 ? rgb8(32, 24) : smooth8(32, 24);
      const bytes = await encodeImage(img, { format, keepMetadata: false, quality: 95 });
      const back = await decodeImage(bytes);
      expect(back.format).toBe(format);
      expect([back.width, back.height, back.channels, back.bitDepth]).toEqual([32, 24, 3, 8]);
      if (tolerance[format] === 0) expect(maxDiff(back.data, img.data)).toBe(0);
      else expect(meanDiff(back.data, img.data)).toBeLessThanOrEqual(tolerance[format]);
      expect(iccDescription(back.metadata.icc!)).toBe('sRGB');
    });
  }

  it('png/tiff/webp keep alpha; jpeg flattens it onto white and says so', async () => {
    const img = rgb8(8, 8, 4);
    for (const format of ['png', 'tiff'] as const) {
      const back = await decodeImage(await encodeImage(img, { format, keepMetadata: false }));
      expect(back.channels).toBe(4);
      expect(maxDiff(back.data, img.data)).toBe(0);
    }
    expect((await decodeImage(await encodeImage(img, { format: 'webp', keepMetadata: false, quality: 100 }))).channels).toBe(4);
    const jpeg = await encodeImageDetailed(img, { format: 'jpeg', keepMetadata: false });
    expect((await decodeImage(jpeg.bytes)).channels).toBe(3);
    expect(jpeg.notes.join(' ')).toMatch(/flattened onto white/);
  });

  for (const format of ['png', 'tiff'] as const) {
    for (const iccMode of ['srgb', 'keep-original'] as const) {
      it(`${format}: 16-bit samples survive exactly (iccMode ${iccMode})`, async () => {
        const img: RgbImage = { width: 9, height: 7, channels: 4, bitDepth: 16, data: gradient16(9, 7, 4) };
        const bytes = await encodeImage(img, { format, keepMetadata: false, iccMode });
        const back = await decodeImage(bytes);
        expect(back.bitDepth).toBe(16);
        expect((await sharp(bytes).metadata()).depth).toBe('ushort');
        expect(maxDiff(back.data, img.data)).toBe(0);
        if (iccMode === 'srgb') expect(iccDescription(back.metadata.icc!)).toBe('sRGB');
        else expect(back.metadata.icc).toBeUndefined();
      });
    }
  }

  it('converts depth exactly: 8 → 16 is ×257, 16 → 8 rounds', async () => {
    expect(Array.from(changeDepth(new Uint8Array([0, 1, 128, 255]), 8, 16))).toEqual([0, 257, 32896, 65535]);
    expect(Array.from(changeDepth(new Uint16Array([0, 128, 129, 65535]), 16, 8))).toEqual([0, 0, 1, 255]);
    const img = rgb8(4, 4);
    const back = await decodeImage(await encodeImage(img, { format: 'png', bitDepth: 16, keepMetadata: false }));
    expect(back.bitDepth).toBe(16);
    expect(Array.from(back.data)).toEqual(Array.from(img.data, (v) => v * 257));
  });

  it('rejects impossible requests with a typed error', async () => {
    expect((await encodeError(rgb8(4, 4), { format: 'jpeg', bitDepth: 16, keepMetadata: false })).code).toBe('invalid-options');
    expect((await encodeError(rgb8(4, 4), { format: 'jpeg', quality: 0, keepMetadata: false })).code).toBe('invalid-options');
    const bad = { ...rgb8(4, 4), height: 5 };
    expect((await encodeError(bad, { format: 'png', keepMetadata: false })).code).toBe('invalid-image');
    const wrongType = { ...rgb8(4, 4), bitDepth: 16 as const };
    expect((await encodeError(wrongType, { format: 'png', keepMetadata: false })).code).toBe('invalid-image');
  });
});

describe('encodeImage: ICC modes', () => {
  it("'convert-back' restores Display P3 values (8-bit) and embeds the original profile", async () => {
    const src = await decodeImage(await p3Png(4, 4, [200, 120, 80], 8));
    const bytes = await encodeImage(src, { format: 'png', keepMetadata: false, iccMode: 'convert-back' });
    const stored = await sharp(bytes, { ignoreIcc: true }).raw().toBuffer();
    expect(maxDiff(stored.subarray(0, 3), [200, 120, 80])).toBeLessThanOrEqual(2);
    expect(Buffer.from((await sharp(bytes).metadata()).icc!).equals(await builtinProfile('p3'))).toBe(true);
  });

  it("'convert-back' restores Display P3 values in 16-bit TIFF and PNG", async () => {
    const src = await decodeImage(await p3Png(4, 4, [200, 120, 80], 16));
    for (const format of ['png', 'tiff'] as const) {
      const bytes = await encodeImage(src, { format, keepMetadata: false, iccMode: 'convert-back' });
      const meta = await sharp(bytes).metadata();
      expect(meta.depth).toBe('ushort');
      const stored = await sharp(bytes, { ignoreIcc: true }).toColourspace('rgb16').raw({ depth: 'ushort' }).toBuffer();
      const values = Array.from(new Uint16Array(stored.buffer, stored.byteOffset, 3), (v) => v / 257);
      expect(maxDiff(values, [200, 120, 80])).toBeLessThanOrEqual(1);
    }
  });

  it("'srgb' on a P3 source keeps sRGB pixels and embeds sRGB", async () => {
    const src = await decodeImage(await p3Png(4, 4, [200, 120, 80], 8));
    const bytes = await encodeImage(src, { format: 'jpeg', keepMetadata: false, iccMode: 'srgb', quality: 100 });
    const back = await decodeImage(bytes);
    expect(iccDescription(back.metadata.icc!)).toBe('sRGB');
    expect(maxDiff(back.data.subarray(0, 3), src.data.subarray(0, 3))).toBeLessThanOrEqual(3);
  });

  it('a CMYK original profile cannot tag RGB output: sRGB is used and reported', async () => {
    const img = { ...rgb8(4, 4), metadata: { icc: await builtinProfile('cmyk') } };
    const res = await encodeImageDetailed(img, { format: 'png', keepMetadata: false, iccMode: 'convert-back' });
    expect(iccDescription((await sharp(res.bytes).metadata()).icc!)).toBe('sRGB');
    expect(res.notes.join(' ')).toMatch(/not an RGB profile/);
  });
});

describe('encodeImage: metadata', () => {
  const MARK = 'CoDiTest-7f3a';

  for (const format of ['jpeg', 'png', 'webp'] as const) {
    it(`${format}: keeps EXIF (orientation reset to 1) and XMP when asked, and the result is not re-rotated`, async () => {
      const src = await decodeImage(await jpegWithAllMetadata(6, MARK));
      expect([src.width, src.height]).toEqual([16, 32]);
      const bytes = await encodeImage(src, { format, keepMetadata: true, quality: 95 });
      const meta = await sharp(bytes).metadata();
      expect(meta.exif?.includes(MARK)).toBe(true);
      expect(exifOrientation(meta.exif!)).toBe(1);
      expect(meta.xmp?.toString('utf8')).toContain(MARK);
      expect(meta.xmp?.toString('utf8')).toContain('tiff:Orientation="1"');
      const back = await decodeImage(bytes);
      expect([back.width, back.height]).toEqual([16, 32]);
      if (format === 'jpeg') expect(meta.iptc?.includes(MARK)).toBe(true);
    });
  }

  it('jpeg: EXIF of the re-encoded file carries the new size and no stale thumbnail link', async () => {
    const src = await decodeImage(await jpegWithAllMetadata(1, MARK));
    const bytes = await encodeImage(src, { format: 'jpeg', keepMetadata: true });
    const exif = (await sharp(bytes).metadata()).exif!;
    const tiff = exif.subarray(6);
    const le = tiff.toString('latin1', 0, 2) === 'II';
    const ifd0 = le ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
    const n = le ? tiff.readUInt16LE(ifd0) : tiff.readUInt16BE(ifd0);
    const next = ifd0 + 2 + 12 * n;
    expect(le ? tiff.readUInt32LE(next) : tiff.readUInt32BE(next)).toBe(0);
  });

  for (const format of ['jpeg', 'png', 'webp', 'tiff', 'avif'] as const) {
    it(`${format}: strips EXIF, XMP and IPTC when keepMetadata is false`, async () => {
      const src = await decodeImage(await jpegWithAllMetadata(6, MARK));
      const bytes = await encodeImage(src, { format, keepMetadata: false });
      const meta = await sharp(bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(meta.iptc).toBeUndefined();
      expect(Buffer.from(bytes).includes(MARK)).toBe(false);
    });
  }

  it('reports what TIFF and AVIF cannot carry', async () => {
    const src = await decodeImage(await jpegWithAllMetadata(1, MARK));
    for (const format of ['tiff', 'avif'] as const) {
      const res = await encodeImageDetailed(src, { format, keepMetadata: true });
      const meta = await sharp(res.bytes).metadata();
      expect(meta.xmp?.toString('utf8')).toContain(MARK);
      expect(res.notes.join(' ')).toMatch(/EXIF was not copied/);
      expect(res.notes.join(' ')).toMatch(/IPTC was not copied/);
    }
  });
});
