import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.ts';
import type { AtomicWriteIo } from './atomic-write.ts';
import { AtomicWriteError } from './errors.ts';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'image-io-atomic-')); });
afterEach(async () => {
  await chmod(dir, 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const ORIGINAL = Buffer.from('original bytes that must survive every failure');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

async function writeError(path: string, bytes: Uint8Array, opts: { overwrite: boolean; io?: Partial<AtomicWriteIo> }): Promise<AtomicWriteError> {
  try {
    await writeFileAtomic(path, bytes, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(AtomicWriteError);
    return e as AtomicWriteError;
  }
  throw new Error('writeFileAtomic did not fail');
}

/** Original unchanged and no temp file left: the two invariants of every failure. */
async function expectUntouched(target: string, original: Buffer | undefined): Promise<void> {
  if (original) expect((await readFile(target)).equals(original)).toBe(true);
  const names = await readdir(dir);
  expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
}

describe('writeFileAtomic', () => {
  it('writes a new file and leaves nothing else behind', async () => {
    const target = join(dir, 'out.png');
    const bytes = Buffer.alloc(3 * (1 << 20) + 17, 7); // several write chunks
    await writeFileAtomic(target, bytes, { overwrite: false });
    expect((await readFile(target)).equals(bytes)).toBe(true);
    expect(await readdir(dir)).toEqual(['out.png']);
  });

  it('refuses to replace an existing file unless overwrite is true', async () => {
    const target = join(dir, 'out.png');
    await writeFile(target, ORIGINAL);
    const err = await writeError(target, Buffer.from('new'), { overwrite: false });
    expect(err.code).toBe('exists');
    expect(err.message).toMatch(/already exists/);
    await expectUntouched(target, ORIGINAL);
  });

  it('replaces an existing file when asked and keeps its permissions', async () => {
    const target = join(dir, 'out.png');
    await writeFile(target, ORIGINAL);
    await chmod(target, 0o640);
    await writeFileAtomic(target, Buffer.from('new content'), { overwrite: true });
    expect((await readFile(target)).toString()).toBe('new content');
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['out.png']);
  });

  it('loses the race cleanly when the name appears between check and commit', async () => {
    const target = join(dir, 'out.png');
    const err = await writeError(target, Buffer.from('new'), {
      overwrite: false,
      io: { link: async () => { await writeFile(target, ORIGINAL); throw errnoError('EEXIST'); } },
    });
    expect(err.code).toBe('exists');
    await expectUntouched(target, ORIGINAL);
  });

  // Tests run as root, where chmod 0555 does not stop writes. An unwritable location that holds
  // for root too: a path whose parent is a regular file (ENOTDIR), or a missing folder (ENOENT).
  it('reports a parent that is a file, and a missing folder, in plain words', async () => {
    const file = join(dir, 'not-a-folder');
    await writeFile(file, 'x');
    const e1 = await writeError(join(file, 'out.png'), Buffer.from('new'), { overwrite: false });
    expect(e1.code).toBe('not-a-directory');
    expect(e1.message).toMatch(/is a file, not a folder/);
    const e2 = await writeError(join(dir, 'missing', 'out.png'), Buffer.from('new'), { overwrite: false });
    expect(e2.code).toBe('not-found');
    expect(e2.message).toMatch(/folder does not exist/);
  });

  it.skipIf(isRoot)('reports a read-only folder (chmod 0555, non-root only)', async () => {
    const ro = join(dir, 'ro');
    await mkdir(ro);
    await chmod(ro, 0o555);
    const err = await writeError(join(ro, 'out.png'), Buffer.from('new'), { overwrite: false });
    expect(err.code).toBe('permission');
  });

  it('refuses to write over a folder', async () => {
    await mkdir(join(dir, 'out.png'));
    expect((await writeError(join(dir, 'out.png'), Buffer.from('x'), { overwrite: true })).code).toBe('is-directory');
  });

  it('disk full in the middle of the write: original intact, temp removed, human message', async () => {
    const target = join(dir, 'out.png');
    await writeFile(target, ORIGINAL);
    let calls = 0;
    const err = await writeError(target, Buffer.alloc(3 << 20, 1), {
      overwrite: true,
      io: {
        async write(handle, data, offset, length, position) {
          if (++calls === 2) throw errnoError('ENOSPC');
          return (await handle.write(data, offset, length, position)).bytesWritten;
        },
      },
    });
    expect(calls).toBe(2);
    expect(err.code).toBe('no-space');
    expect(err.errno).toBe('ENOSPC');
    expect(err.message).toBe('Cannot save "out.png": the disk is full. The existing file was not changed.');
    await expectUntouched(target, ORIGINAL);
  });

  const failures: Array<[string, keyof AtomicWriteIo, string, string]> = [
    ['fsync fails (EIO)', 'sync', 'EIO', 'io'],
    ['rename fails on a read-only file system (EROFS)', 'rename', 'EROFS', 'read-only'],
    ['permission denied creating the temp file (EACCES)', 'open', 'EACCES', 'permission'],
    ['disk quota exhausted at close (EDQUOT)', 'close', 'EDQUOT', 'no-space'],
  ];
  for (const [what, op, errno, code] of failures) {
    it(`${what}: original intact, temp removed`, async () => {
      const target = join(dir, 'out.png');
      await writeFile(target, ORIGINAL);
      const realClose = (h: { close(): Promise<void> }) => h.close();
      const io: Partial<AtomicWriteIo> = {
        [op]: async (...args: unknown[]) => {
          // A failing close must still release the descriptor, as the kernel does.
          if (op === 'close') await realClose(args[0] as { close(): Promise<void> }).catch(() => undefined);
          throw errnoError(errno);
        },
      };
      const err = await writeError(target, Buffer.from('new content'), { overwrite: true, io });
      expect(err.code).toBe(code);
      expect(err.errno).toBe(errno);
      expect(err.message).toContain('The existing file was not changed.');
      await expectUntouched(target, ORIGINAL);
    });
  }

  it('falls back to check-then-rename where hard links are not supported', async () => {
    const target = join(dir, 'out.png');
    await writeFileAtomic(target, Buffer.from('new'), { overwrite: false, io: { link: async () => { throw errnoError('EPERM'); } } });
    expect((await readFile(target)).toString()).toBe('new');
    expect(await readdir(dir)).toEqual(['out.png']);
  });

  it('a failing directory fsync does not undo a completed save', async () => {
    const target = join(dir, 'out.png');
    await writeFileAtomic(target, Buffer.from('new'), { overwrite: false, io: { syncDirectory: async () => { throw errnoError('EINVAL'); } } });
    expect((await readFile(target)).toString()).toBe('new');
  });
});
