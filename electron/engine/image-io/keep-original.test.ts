import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AtomicWriteIo } from './atomic-write.ts';
import { AtomicWriteError } from './errors.ts';
import { BACKUP_FOLDER, homeTrashDir, keepOriginal } from './keep-original.ts';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'image-io-keep-'));
  env = { XDG_DATA_HOME: join(dir, 'xdg'), HOME: join(dir, 'home') };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Several write chunks, so an injected failure can strike half-way through the copy. */
const BYTES = Buffer.alloc(3 * (1 << 20) + 5, 0);
for (let i = 0; i < BYTES.length; i++) BYTES[i] = (i * 131 + 7) & 255;
const NOW = () => new Date(2026, 11, 6, 9, 5, 3);

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

async function photo(name = 'my photo.jpg'): Promise<string> {
  const p = join(dir, 'pictures', name);
  await mkdir(join(dir, 'pictures'), { recursive: true });
  await writeFile(p, BYTES);
  return p;
}

async function listing(p: string): Promise<string[]> {
  return (await readdir(p).catch(() => [] as string[])).sort();
}

describe('keepOriginal', () => {
  it('puts the exact bytes in the freedesktop.org trash with a .trashinfo, without touching the original', async () => {
    const p = await photo();
    const kept = await keepOriginal(p, { env, platform: 'linux', now: NOW });
    const trash = join(dir, 'xdg', 'Trash');
    expect(homeTrashDir(env)).toBe(trash);
    expect(kept).toMatchObject({ place: 'trash', path: join(trash, 'files', 'my photo.jpg') });
    expect((await readFile(kept.path)).equals(BYTES)).toBe(true);
    expect((await readFile(p)).equals(BYTES)).toBe(true);
    const info = await readFile(join(trash, 'info', 'my photo.jpg.trashinfo'), 'utf8');
    expect(info).toBe(`[Trash Info]\nPath=${join(dir, 'pictures', 'my%20photo.jpg')}\nDeletionDate=2026-12-06T09:05:03\n`);
    // A second replace of the same name never overwrites the first copy.
    const again = await keepOriginal(p, { env, platform: 'linux', now: NOW });
    expect(again.path).toBe(join(trash, 'files', 'my photo.2.jpg'));
    expect(await listing(join(trash, 'info'))).toEqual(['my photo.2.jpg.trashinfo', 'my photo.jpg.trashinfo']);
  });

  it('copies in full (atomically) where a hard link is impossible, e.g. across file systems', async () => {
    const p = await photo();
    const io: Partial<AtomicWriteIo> = { link: async (a, b) => (a === p ? Promise.reject(errno('EXDEV')) : (await import('node:fs/promises')).link(a, b)) };
    const kept = await keepOriginal(p, { env, platform: 'linux', io });
    expect((await readFile(kept.path)).equals(BYTES)).toBe(true);
    // A real copy: a separate file, not the original's inode.
    expect((await stat(kept.path)).ino).not.toBe((await stat(p)).ino);
    expect((await listing(join(dir, 'xdg', 'Trash', 'files'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a copy that fails half-way leaves nothing behind and throws: the original must then not be replaced', async () => {
    const p = await photo();
    let writes = 0;
    const io: Partial<AtomicWriteIo> = {
      link: async (a, b) => (a === p ? Promise.reject(errno('EXDEV')) : (await import('node:fs/promises')).link(a, b)),
      // The first 1 MiB chunk of the copy lands, the second hits a full disk.
      write: async (h, data, offset, length, position) => {
        if (data.length === BYTES.length && ++writes > 1) throw errno('ENOSPC');
        return (await h.write(data, offset, length, position)).bytesWritten;
      },
    };
    const err = await keepOriginal(p, { env, platform: 'linux', io }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtomicWriteError);
    expect((err as Error).message).toMatch(/could not be kept.*trash.*disk is full.*CoDi originals.*The original was not changed/);
    expect(writes).toBeGreaterThan(1);
    expect((await readFile(p)).equals(BYTES)).toBe(true);
    expect(await listing(join(dir, 'xdg', 'Trash', 'files'))).toEqual([]);
    expect(await listing(join(dir, 'xdg', 'Trash', 'info'))).toEqual([]);
    expect(await listing(join(dir, 'pictures'))).toEqual(['my photo.jpg']);
  });

  it('falls back to a versioned backup folder next to the photo when the trash cannot be written', async () => {
    const p = await photo();
    await writeFile(join(dir, 'xdg'), 'a file where the data folder should be');
    const kept = await keepOriginal(p, { env, platform: 'linux', now: NOW });
    expect(kept).toMatchObject({ place: 'backup', path: join(dir, 'pictures', BACKUP_FOLDER, 'my photo 2026-12-06 09-05-03.jpg') });
    expect((await readFile(kept.path)).equals(BYTES)).toBe(true);
    const second = await keepOriginal(p, { env, platform: 'linux', now: NOW });
    expect(second.path).toBe(join(dir, 'pictures', BACKUP_FOLDER, 'my photo 2026-12-06 09-05-03 2.jpg'));
  });

  it('uses the backup folder where there is no freedesktop trash (macOS, Windows)', async () => {
    const p = await photo('a.png');
    for (const platform of ['darwin', 'win32'] as const) {
      const kept = await keepOriginal(p, { env, platform, now: NOW });
      expect(kept.place).toBe('backup');
      expect((await readFile(kept.path)).equals(BYTES)).toBe(true);
    }
    expect(await listing(join(dir, 'xdg'))).toEqual([]);
  });

  it('discard() removes the copy and its .trashinfo (used when the replace itself then fails)', async () => {
    const p = await photo();
    const kept = await keepOriginal(p, { env, platform: 'linux' });
    await kept.discard();
    expect(await listing(join(dir, 'xdg', 'Trash', 'files'))).toEqual([]);
    expect(await listing(join(dir, 'xdg', 'Trash', 'info'))).toEqual([]);
    expect((await readFile(p)).equals(BYTES)).toBe(true);
  });
});
