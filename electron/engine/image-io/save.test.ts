import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gradient8 } from '../../../tests/fixtures-gen/image-corpus.ts';
import { decodeImage } from './decode.ts';
import { AtomicWriteError, ImageEncodeError } from './errors.ts';
import { formatFromPath, saveImage } from './save.ts';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'image-io-save-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

async function sourceFile(name: string): Promise<{ path: string; bytes: Buffer }> {
  const bytes = await sharp(gradient8(16, 8), { raw: { width: 16, height: 8, channels: 3 } }).png().toBuffer();
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, bytes };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('saveImage', () => {
  it('never replaces the source without its own confirmation (also through a symlink)', async () => {
    const src = await sourceFile('photo.png');
    const img = await decodeImage(src.path);
    const alias = join(dir, 'alias.png');
    await symlink(src.path, alias);
    for (const path of [src.path, join(dir, '.', 'photo.png'), alias]) {
      // Without overwrite: the plain refusal; with it: the original needs replaceOriginal as well.
      expect(((await rejection(saveImage(img, path, { keepMetadata: false }))) as AtomicWriteError).code).toBe('is-source');
      const err = await rejection(saveImage(img, path, { keepMetadata: false, overwrite: true }));
      expect(err).toBeInstanceOf(AtomicWriteError);
      expect((err as AtomicWriteError).code).toBe('is-original');
    }
    expect((await readFile(src.path)).equals(src.bytes)).toBe(true);
  });

  it('replacing a confirmed original keeps its exact bytes in the trash first', async () => {
    const src = await sourceFile('photo.png');
    const img = await decodeImage(src.path);
    const keep = { env: { XDG_DATA_HOME: join(dir, 'xdg') }, platform: 'linux' as const };
    const res = await saveImage(img, src.path, { keepMetadata: false, overwrite: true, replaceOriginal: true, format: 'jpeg', keep });
    expect((await decodeImage(src.path)).format).toBe('jpeg');
    expect(res.keptOriginal).toEqual({ place: 'trash', path: join(dir, 'xdg', 'Trash', 'files', 'photo.png') });
    expect((await readFile(res.keptOriginal!.path)).equals(src.bytes)).toBe(true);
  });

  it('an original the caller names (opened from bytes) gets the same protection', async () => {
    const src = await sourceFile('picked.png');
    const img = await decodeImage(new Uint8Array(src.bytes));
    expect(((await rejection(saveImage(img, src.path, { keepMetadata: false, overwrite: true, original: true }))) as AtomicWriteError).code).toBe('is-original');
    // Not named: an ordinary existing file, replaced on overwrite alone and not kept.
    const plain = await saveImage(img, src.path, { keepMetadata: false, overwrite: true });
    expect(plain.keptOriginal).toBeUndefined();
  });

  it('if the original cannot be kept, it is not replaced', async () => {
    const src = await sourceFile('photo.png');
    const img = await decodeImage(src.path);
    const fail = async () => { throw Object.assign(new Error('injected'), { code: 'EIO' }); };
    const keep = { env: { XDG_DATA_HOME: join(dir, 'xdg') }, platform: 'linux' as const, io: { link: fail, write: fail } };
    const err = await rejection(saveImage(img, src.path, { keepMetadata: false, overwrite: true, replaceOriginal: true, keep }));
    expect((err as AtomicWriteError).message).toMatch(/could not be kept.*The original was not changed/);
    expect((await readFile(src.path)).equals(src.bytes)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['photo.png', 'xdg']);
    expect(await readdir(join(dir, 'xdg', 'Trash', 'files'))).toEqual([]);
  });

  it('if the replace fails after the original was kept, the original stays and the copy is removed', async () => {
    const src = await sourceFile('photo.png');
    const img = await decodeImage(src.path);
    const keep = { env: { XDG_DATA_HOME: join(dir, 'xdg') }, platform: 'linux' as const };
    const err = await rejection(saveImage(img, src.path, {
      keepMetadata: false, overwrite: true, replaceOriginal: true, keep,
      io: { rename: async () => { throw Object.assign(new Error('injected'), { code: 'ENOSPC' }); } },
    }));
    expect((err as AtomicWriteError).code).toBe('no-space');
    expect((await readFile(src.path)).equals(src.bytes)).toBe(true);
    expect(await readdir(join(dir, 'xdg', 'Trash', 'files'))).toEqual([]);
    expect(await readdir(join(dir, 'xdg', 'Trash', 'info'))).toEqual([]);
  });

  it('picks the format from the extension and refuses existing files without overwrite', async () => {
    const src = await sourceFile('photo.png');
    const img = await decodeImage(src.path);
    const res = await saveImage(img, join(dir, 'export.webp'), { keepMetadata: false });
    expect(res.bytes).toBeGreaterThan(0);
    expect((await decodeImage(res.path)).format).toBe('webp');
    const err = await rejection(saveImage(img, join(dir, 'export.webp'), { keepMetadata: false }));
    expect((err as AtomicWriteError).code).toBe('exists');
    const err2 = await rejection(saveImage(img, join(dir, 'export.xyz'), { keepMetadata: false }));
    expect(err2).toBeInstanceOf(ImageEncodeError);
    expect(formatFromPath('a/b/C.JPG')).toBe('jpeg');
    expect(formatFromPath('x.tif')).toBe('tiff');
  });

  it('a failed save leaves the existing export intact and no temp file', async () => {
    const src = await sourceFile('photo.png');
    const img = await decodeImage(src.path);
    const target = join(dir, 'export.png');
    await writeFile(target, 'previous export');
    const err = await rejection(saveImage(img, target, {
      keepMetadata: false,
      overwrite: true,
      io: { rename: async () => { throw Object.assign(new Error('injected'), { code: 'ENOSPC' }); } },
    }));
    expect((err as AtomicWriteError).code).toBe('no-space');
    expect((await readFile(target)).toString()).toBe('previous export');
    expect((await readdir(dir)).sort()).toEqual(['export.png', 'photo.png']);
  });
});
