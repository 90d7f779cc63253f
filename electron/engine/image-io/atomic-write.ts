import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { AtomicWriteError } from './errors.ts';
import type { WriteErrorCode } from './errors.ts';

/**
 * The file-system calls writeFileAtomic makes, replaceable one by one so tests can inject
 * failures (disk full mid-write, fsync error, rename error) without a special file system.
 */
export interface AtomicWriteIo {
  open(path: string, flags: number, mode: number): Promise<FileHandle>;
  write(handle: FileHandle, data: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  sync(handle: FileHandle): Promise<void>;
  close(handle: FileHandle): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  lstat(path: string): Promise<Stats>;
  syncDirectory(dir: string): Promise<void>;
}

export interface AtomicWriteOptions {
  /** Replace an existing file at `path`. Without it an existing file is never touched. */
  overwrite: boolean;
  /** Fault injection for tests; production code leaves it out. */
  io?: Partial<AtomicWriteIo>;
}

const CHUNK = 1 << 20;

const realIo: AtomicWriteIo = {
  open: (p, flags, mode) => fsp.open(p, flags, mode),
  write: async (h, data, offset, length, position) => (await h.write(data, offset, length, position)).bytesWritten,
  sync: (h) => h.sync(),
  close: (h) => h.close(),
  rename: (a, b) => fsp.rename(a, b),
  link: (a, b) => fsp.link(a, b),
  unlink: (p) => fsp.unlink(p),
  lstat: (p) => fsp.lstat(p),
  async syncDirectory(dir) {
    // A rename is durable only once its directory entry is; Windows cannot open directories for this.
    if (process.platform === 'win32') return;
    const h = await fsp.open(dir, constants.O_RDONLY);
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  },
};

/**
 * Write `bytes` to `path` so that, whatever fails and whenever the process dies, `path` holds
 * either its old content (byte-identical) or the complete new content:
 * temp file in the same folder → write → fsync → (link | rename) → fsync the folder.
 * The temp file is removed on every failure. Errors are AtomicWriteError with human messages.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, opts: AtomicWriteOptions): Promise<void> {
  const io: AtomicWriteIo = { ...realIo, ...opts.io };
  const target = resolve(path);
  const dir = dirname(target);

  let existing: Stats | undefined;
  try {
    existing = await io.lstat(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw writeError(e, target, false);
  }
  if (existing?.isDirectory()) throw new AtomicWriteError('is-directory', target, `Cannot save "${basename(target)}": a folder with that name already exists.`);
  if (existing && !opts.overwrite) throw existsError(target);

  const temp = resolve(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  let tempCreated = false;
  try {
    // Keep the permissions of the file being replaced; new files get 0666 minus the umask.
    const mode = existing ? existing.mode & 0o777 : 0o666;
    handle = await io.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    tempCreated = true;
    for (let offset = 0; offset < bytes.length;) {
      const length = Math.min(CHUNK, bytes.length - offset);
      const written = await io.write(handle, bytes, offset, length, offset);
      if (written <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
      offset += written;
    }
    await io.sync(handle);
    const h = handle;
    handle = undefined;
    await io.close(h);

    if (opts.overwrite) {
      await io.rename(temp, target);
    } else {
      // link() fails with EEXIST if the name appeared meanwhile: no check-then-rename race.
      try {
        await io.link(temp, target);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw existsError(target);
        // File systems without hard links (FAT, some network shares): check, then rename.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
        if (await exists(io, target)) throw existsError(target);
        await io.rename(temp, target);
      }
      await io.unlink(temp).catch(() => undefined);
    }
    tempCreated = false;
  } catch (e) {
    if (handle) await io.close(handle).catch(() => undefined);
    if (tempCreated) await io.unlink(temp).catch(() => undefined);
    throw e instanceof AtomicWriteError ? e : writeError(e, target, existing !== undefined);
  }
  // The new content is in place; a failed directory fsync only weakens durability across power loss.
  await io.syncDirectory(dir).catch(() => undefined);
}

async function exists(io: AtomicWriteIo, p: string): Promise<boolean> {
  try {
    await io.lstat(p);
    return true;
  } catch {
    return false;
  }
}

function existsError(target: string): AtomicWriteError {
  return new AtomicWriteError('exists', target,
    `Cannot save "${basename(target)}": a file with that name already exists. Choose another name or allow replacing it.`, 'EEXIST');
}

const REASONS: Record<string, [WriteErrorCode, string]> = {
  ENOSPC: ['no-space', 'the disk is full'],
  EDQUOT: ['no-space', 'the disk quota is exhausted'],
  EROFS: ['read-only', 'the folder is on a read-only disk'],
  EACCES: ['permission', 'you do not have permission to write in this folder'],
  EPERM: ['permission', 'the operating system did not allow writing here'],
  ENOENT: ['not-found', 'the folder does not exist'],
  ENOTDIR: ['not-a-directory', 'part of the path is a file, not a folder'],
  EISDIR: ['is-directory', 'a folder with that name already exists'],
  EIO: ['io', 'the disk reported an input/output error'],
};

function writeError(e: unknown, target: string, hadOriginal: boolean): AtomicWriteError {
  const errno = (e as NodeJS.ErrnoException).code;
  const [code, reason] = (errno && REASONS[errno]) || ['io', (e as Error).message];
  const kept = hadOriginal ? ' The existing file was not changed.' : '';
  return new AtomicWriteError(code, target, `Cannot save "${basename(target)}": ${reason}.${kept}`, errno, { cause: e });
}
