import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  animated, builtinProfile, cmykJpeg, gradient16, gradient8, jpegWithOrientation, lyingPngHeader, p3Png, p3ToSrgb,
  QUADRANT_COLOURS, tagPng,
} from '../../../tests/fixtures-gen/image-corpus.ts';
import type { Rgb } from '../../../tests/fixtures-gen/image-corpus.ts';
import { decodeImage } from './decode.ts';
import { ImageDecodeError } from './errors.ts';
import type { DecodedImage } from './types.ts';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'image-io-decode-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function pixel(img: DecodedImage, x: number, y: number): number[] {
  const i = (y * img.width + x) * img.channels;
  return Array.from(img.data.subarray(i, i + img.channels));
}

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `channel ${i}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance));
}

async function decodeError(input: Uint8Array | string, opts?: { maxPixels?: number }): Promise<ImageDecodeError> {
  try {
    await decodeImage(input, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ImageDecodeError);
    return e as ImageDecodeError;
  }
  throw new Error('decodeImage did not fail');
}

describe('decodeImage: formats', () => {
  const W = 24, H = 12;
  const raw = gradient8(W, H);
  const cases: Array<[string, () => Promise<Buffer>, number]> = [
    ['png', () => sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer(), 0],
    ['tiff', () => sharp(raw, { raw: { width: W, height: H, channels: 3 } }).tiff({ compression: 'lzw' }).toBuffer(), 0],
    ['webp', () => sharp(raw, { raw: { width: W, height: H, channels: 3 } }).webp({ lossless: true }).toBuffer(), 0],
    ['jpeg', () => sharp(raw, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer(), 12],
    ['avif', () => sharp(raw, { raw: { width: W, height: H, channels: 3 } }).avif({ lossless: true }).toBuffer(), 12],
  ];
  for (const [format, make, tol] of cases) {
    it(`decodes ${format} to 8-bit sRGB with the right pixels`, async () => {
      const img = await decodeImage(await make());
      expect(img.format).toBe(format);
      expect([img.width, img.height, img.channels, img.bitDepth, img.hasAlpha]).toEqual([W, H, 3, 8, false]);
      expect(img.data).toBeInstanceOf(Uint8Array);
      let worst = 0;
      for (let i = 0; i < raw.length; i++) worst = Math.max(worst, Math.abs(img.data[i]! - raw[i]!));
      expect(worst).toBeLessThanOrEqual(tol);
    });
  }

  it('keeps alpha (RGBA PNG → 4 channels)', async () => {
    const rgba = gradient8(8, 8, 4);
    const img = await decodeImage(await sharp(rgba, { raw: { width: 8, height: 8, channels: 4 } }).png().toBuffer());
    expect(img.channels).toBe(4);
    expect(img.hasAlpha).toBe(true);
    expect(Buffer.from(img.data).equals(rgba)).toBe(true);
  });

  it('expands greyscale to RGB', async () => {
    const grey = Buffer.from([0, 50, 100, 250]);
    const png = await sharp(grey, { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(png).metadata()).channels).toBe(1);
    const img = await decodeImage(png);
    expect(img.channels).toBe(3);
    expect(pixel(img, 1, 1)).toEqual([250, 250, 250]);
    expect(img.notes.join(' ')).toMatch(/Greyscale/);
  });
});

describe('decodeImage: EXIF orientation', () => {
  // Where the displayed pixel (x, y) comes from in the stored w × h image, per EXIF 2.3 Orientation.
  const source: Record<number, (x: number, y: number, w: number, h: number) => [number, number]> = {
    1: (x, y) => [x, y],
    2: (x, y, w) => [w - 1 - x, y],
    3: (x, y, w, h) => [w - 1 - x, h - 1 - y],
    4: (x, y, _w, h) => [x, h - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y, _w, h) => [y, h - 1 - x],
    7: (x, y, w, h) => [w - 1 - y, h - 1 - x],
    8: (x, y, w) => [w - 1 - y, x],
  };
  for (let o = 1; o <= 8; o++) {
    it(`orientation ${o} comes out upright`, async () => {
      const w = 32, h = 16;
      const img = await decodeImage(await jpegWithOrientation(o, w, h));
      const swapped = o >= 5;
      expect([img.width, img.height]).toEqual(swapped ? [h, w] : [w, h]);
      expect(img.metadata.orientation).toBe(o);
      for (const [fx, fy] of [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]] as const) {
        const x = Math.floor(fx * img.width), y = Math.floor(fy * img.height);
        const [sx, sy] = source[o]!(x, y, w, h);
        const q = (sy < h / 2 ? 0 : 2) + (sx < w / 2 ? 0 : 1);
        expectClose(pixel(img, x, y), QUADRANT_COLOURS[q]!, 16);
      }
      if (o !== 1) expect(img.notes.join(' ')).toContain(`orientation ${o}`);
    });
  }
});

describe('decodeImage: colour', () => {
  const stored: Rgb = [200, 120, 80];
  const expected = p3ToSrgb(stored);

  it('converts an 8-bit Display P3 PNG to sRGB (matches an independent P3→sRGB computation)', async () => {
    const img = await decodeImage(await p3Png(4, 4, stored, 8));
    const got = pixel(img, 1, 1);
    expectClose(got, expected, 2);
    // The shift is real: sRGB values differ clearly from the stored P3 values.
    expect(Math.abs(got[0]! - stored[0]) + Math.abs(got[1]! - stored[1]) + Math.abs(got[2]! - stored[2])).toBeGreaterThan(15);
    expect(img.metadata.icc).toBeDefined();
    expect(img.metadata.iccDescription).toBeTruthy();
    expect(img.notes.join(' ')).toMatch(/Converted from the embedded colour profile/);
  });

  it('converts a 16-bit Display P3 PNG to sRGB and stays 16-bit', async () => {
    const img = await decodeImage(await p3Png(4, 4, stored, 16));
    expect(img.bitDepth).toBe(16);
    expect(img.data).toBeInstanceOf(Uint16Array);
    expectClose(pixel(img, 2, 2).map((v) => v / 257), expected, 1);
  });

  it('reads a 16-bit sRGB-tagged PNG without changing a single value', async () => {
    const px = gradient16(8, 4);
    const png = await sharp(px, { raw: { width: 8, height: 4, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    const img = await decodeImage(tagPng(png, await builtinProfile('srgb')));
    expect(Array.from(img.data)).toEqual(Array.from(px));
  });

  it('keeps 16-bit PNG and TIFF samples exactly (RGB and RGBA)', async () => {
    for (const channels of [3, 4] as const) {
      const px = gradient16(9, 5, channels);
      const base = sharp(px, { raw: { width: 9, height: 5, channels } }).toColourspace('rgb16');
      for (const file of [await base.clone().png().toBuffer(), await base.clone().tiff({ compression: 'deflate' }).toBuffer()]) {
        const img = await decodeImage(file);
        expect([img.bitDepth, img.channels, img.source.bitDepth]).toEqual([16, channels, 16]);
        expect(img.data).toBeInstanceOf(Uint16Array);
        expect(Array.from(img.data)).toEqual(Array.from(px));
      }
    }
  });

  for (const withProfile of [false, true]) {
    it(`converts a CMYK JPEG ${withProfile ? 'with' : 'without'} an embedded profile to sRGB`, async () => {
      const colour: Rgb = [200, 60, 40];
      const img = await decodeImage(await cmykJpeg(colour, withProfile));
      expect(img.source.space).toBe('cmyk');
      expect(img.source.channels).toBe(4);
      expect(img.channels).toBe(3);
      // CMYK round trips are not exact (gamut mapping through the CMYK profile): stay close.
      expectClose(pixel(img, 8, 8), colour, 28);
      expect(img.notes.join(' ')).toMatch(/CMYK converted to sRGB/);
    });
  }
});

describe('decodeImage: animation', () => {
  const frames: Rgb[] = [[250, 10, 10], [10, 250, 10], [10, 10, 250]];
  for (const format of ['gif', 'webp'] as const) {
    it(`takes the first frame of an animated ${format} and says so`, async () => {
      const img = await decodeImage(await animated(format, frames));
      expect(img.format).toBe(format);
      expect([img.width, img.height]).toEqual([8, 8]);
      expectClose(pixel(img, 3, 3).slice(0, 3), frames[0]!, 4);
      expect(img.source.pages).toBe(3);
      expect(img.notes.join(' ')).toMatch(/3 frames: only the first frame/);
    });
  }
});

describe('decodeImage: hostile and broken input', () => {
  it('refuses a PNG whose header claims 50 000 × 50 000 before decoding, quickly', async () => {
    for (const [depth, type] of [[8, 2], [16, 6]] as const) {
      const t0 = performance.now();
      const err = await decodeError(lyingPngHeader(50_000, 50_000, depth, type));
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(err.code).toBe('too-large');
      expect(err.message).toContain('50000 × 50000');
      expect(err.message).toContain('2500 megapixels');
      expect(err.message).toContain('100 megapixel limit');
    }
  });

  it('applies a configurable pixel limit; 0 means none', async () => {
    const png = await sharp(gradient8(100, 100), { raw: { width: 100, height: 100, channels: 3 } }).png().toBuffer();
    expect((await decodeError(png, { maxPixels: 5000 })).code).toBe('too-large');
    expect((await decodeImage(png, { maxPixels: 10_000 })).width).toBe(100);
    expect((await decodeImage(png, { maxPixels: 0 })).width).toBe(100);
  });

  for (const format of ['jpeg', 'png'] as const) {
    for (const fraction of [0.1, 0.5, 0.99]) {
      it(`reports a ${format} cut at ${fraction * 100}% as truncated`, async () => {
        const raw = gradient8(64, 64);
        const full = await sharp(raw, { raw: { width: 64, height: 64, channels: 3 } })[format]().toBuffer();
        const err = await decodeError(full.subarray(0, Math.floor(full.length * fraction)));
        expect(err.code).toBe('truncated');
        expect(err.message).toMatch(/incomplete/);
      });
    }
  }

  it('reports a zero-byte file and an empty buffer as empty', async () => {
    const p = join(dir, 'empty.png');
    await writeFile(p, Buffer.alloc(0));
    expect((await decodeError(p)).code).toBe('empty');
    expect((await decodeError(new Uint8Array(0))).code).toBe('empty');
  });

  it('detects the format from the bytes, not the extension', async () => {
    const p = join(dir, 'really-a-png.jpg');
    await writeFile(p, await sharp(gradient8(8, 8), { raw: { width: 8, height: 8, channels: 3 } }).png().toBuffer());
    const img = await decodeImage(p);
    expect(img.format).toBe('png');
    expect(img.source.path).toBe(p);
  });

  it('refuses non-images and formats outside the list with a clear message', async () => {
    const p = join(dir, 'notes.png');
    await writeFile(p, 'just some text, not pixels');
    const err = await decodeError(p);
    expect(err.code).toBe('unsupported-format');
    expect(err.message).toContain('".png"');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    expect((await decodeError(svg)).code).toBe('unsupported-format');
  });

  it('reports garbage after a valid signature as corrupt, not a crash', async () => {
    const junk = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 0x5a)]);
    const err = await decodeError(junk);
    expect(['corrupt', 'truncated']).toContain(err.code);
  });

  it('reports missing files and folders', async () => {
    expect((await decodeError(join(dir, 'nope.png'))).code).toBe('not-found');
    await mkdir(join(dir, 'folder.png'));
    expect((await decodeError(join(dir, 'folder.png'))).code).toBe('unreadable');
  });
});
