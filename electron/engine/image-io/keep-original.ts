/**
 * Before the file a photo was opened from is replaced, its exact bytes are put where the user
 * can get them back: the desktop's trash (freedesktop.org: `$XDG_DATA_HOME/Trash/files/<name>`
 * with `info/<name>.trashinfo`, so file managers list it and can put it back), or, where there
 * is no such trash or it cannot be written, a versioned copy in a "CoDi originals" folder next
 * to the file.
 *
 * The copy is made without ever touching the original: a hard link (one atomic call, the very
 * same bytes) or, across file systems, a full copy written with writeFileAtomic (temp file +
 * fsync + link), so a failure half-way leaves no partial copy behind. Only once the copy is
 * complete may the caller replace the original; if keeping it fails, keepOriginal throws and the
 * caller must not replace anything.
 */
import * as fsp from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-write.ts';
import type { AtomicWriteIo } from './atomic-write.ts';
import { AtomicWriteError } from './errors.ts';

/** Where the original's bytes went. */
export interface KeptOriginal {
  place: 'trash' | 'backup';
  /** The kept copy. */
  path: string;
  /** Remove the copy again (the replace it made way for failed, so the original is still in place). */
  discard(): Promise<void>;
}

export interface KeepOriginalOptions {
  /** XDG_DATA_HOME and HOME are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Default process.platform: macOS and Windows have no freedesktop trash, so they get the backup folder. */
  platform?: NodeJS.Platform;
  /** Clock for DeletionDate and the backup's version stamp. */
  now?: () => Date;
  /** Fault injection for tests: the calls the copy makes (link, and writeFileAtomic's). */
  io?: Partial<AtomicWriteIo> & { readFile?(path: string): Promise<Uint8Array> };
}

/** Name of the folder next to the photo that holds versioned copies where there is no trash. */
export const BACKUP_FOLDER = 'CoDi originals';

const NO_HARD_LINKS = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/**
 * Keep the current bytes of `file` (trash first, else the backup folder). Throws
 * AtomicWriteError when neither works; nothing is left behind then.
 */
export async function keepOriginal(file: string, options: KeepOriginalOptions = {}): Promise<KeptOriginal> {
  const target = resolve(file);
  const platform = options.platform ?? process.platform;
  const reasons: string[] = [];
  if (platform !== 'darwin' && platform !== 'win32') {
    try {
      return await keepInTrash(target, options);
    } catch (err) {
      reasons.push(`the trash: ${reasonOf(err)}`);
    }
  }
  try {
    return await keepInBackupFolder(target, options);
  } catch (err) {
    reasons.push(`the "${BACKUP_FOLDER}" folder: ${reasonOf(err)}`);
  }
  throw new AtomicWriteError('io', target,
    `Cannot replace "${basename(target)}": a copy of the original could not be kept (${reasons.join('; ')}). The original was not changed.`);
}

/** The home trash of the freedesktop.org Trash specification. */
export function homeTrashDir(env: NodeJS.ProcessEnv = process.env): string {
  const dataHome = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(env.HOME || os.homedir(), '.local', 'share');
  return join(dataHome, 'Trash');
}

async function keepInTrash(target: string, options: KeepOriginalOptions): Promise<KeptOriginal> {
  const trash = homeTrashDir(options.env ?? process.env);
  const filesDir = join(trash, 'files');
  const infoDir = join(trash, 'info');
  await fsp.mkdir(filesDir, { recursive: true, mode: 0o700 });
  await fsp.mkdir(infoDir, { recursive: true, mode: 0o700 });
  const info = new TextEncoder().encode(`[Trash Info]\nPath=${trashInfoPath(target)}\nDeletionDate=${localStamp((options.now ?? (() => new Date()))(), 'T', ':')}\n`);
  for (let n = 1; n < 10_000; n++) {
    const name = numbered(basename(target), n, '.');
    const infoFile = join(infoDir, `${name}.trashinfo`);
    // The spec reserves a name by creating its .trashinfo first, exclusively.
    try {
      await writeFileAtomic(infoFile, info, { overwrite: false, io: options.io });
    } catch (err) {
      if (err instanceof AtomicWriteError && err.code === 'exists') continue;
      throw err;
    }
    const kept = join(filesDir, name);
    try {
      if (await copyExactly(target, kept, options)) {
        return { place: 'trash', path: kept, discard: () => removeAll([kept, infoFile]) };
      }
    } catch (err) {
      await removeAll([infoFile]);
      throw err;
    }
    // A file without its .trashinfo already had that name: leave it, try the next one.
    await removeAll([infoFile]);
  }
  throw new Error('no free name in the trash');
}

async function keepInBackupFolder(target: string, options: KeepOriginalOptions): Promise<KeptOriginal> {
  const folder = join(dirname(target), BACKUP_FOLDER);
  const created = await fsp.mkdir(folder, { recursive: true });
  const stamp = localStamp((options.now ?? (() => new Date()))(), ' ', '-');
  const ext = extname(target);
  const stem = basename(target, ext);
  try {
    for (let n = 1; n < 10_000; n++) {
      const kept = join(folder, numbered(`${stem} ${stamp}${ext}`, n, ' '));
      if (await copyExactly(target, kept, options)) return { place: 'backup', path: kept, discard: () => removeAll([kept]) };
    }
    throw new Error('no free name in the backup folder');
  } catch (err) {
    // A folder made for a copy that failed would be litter (rmdir leaves a non-empty one alone).
    if (created) await fsp.rmdir(folder).catch(() => undefined);
    throw err;
  }
}

/**
 * Put the bytes of `from` at `to` (which must not exist: false when it does). A hard link where
 * the file system allows one, else a complete atomic copy. `from` is only ever read.
 */
async function copyExactly(from: string, to: string, options: KeepOriginalOptions): Promise<boolean> {
  const link = options.io?.link ?? ((a: string, b: string) => fsp.link(a, b));
  try {
    await link(from, to);
    const sync = options.io?.syncDirectory;
    if (sync) await sync(dirname(to)).catch(() => undefined);
    else await syncDir(dirname(to));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!code || !NO_HARD_LINKS.has(code)) throw err;
  }
  const bytes = await (options.io?.readFile ?? ((p: string) => fsp.readFile(p)))(from);
  try {
    await writeFileAtomic(to, bytes, { overwrite: false, io: options.io });
  } catch (err) {
    if (err instanceof AtomicWriteError && err.code === 'exists') return false;
    throw err;
  }
  return true;
}

async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const h = await fsp.open(dir, 'r').catch(() => null);
  if (!h) return;
  await h.sync().catch(() => undefined);
  await h.close();
}

async function removeAll(paths: string[]): Promise<void> {
  for (const p of paths) await fsp.unlink(p).catch(() => undefined);
}

/** "photo.jpg", "photo.2.jpg", "photo.3.jpg" … (the extension stays last so the file still opens). */
function numbered(name: string, n: number, sep: string): string {
  if (n === 1) return name;
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)}${sep}${n}${ext}`;
}

/** The spec's Path key: the absolute path, percent-encoded as in a URL, slashes kept. */
export function trashInfoPath(abs: string): string {
  return abs.split('/').map((seg) => encodeURIComponent(seg)).join('/');
}

/** Local time as YYYY-MM-DD<sep>hh<t>mm<t>ss (the trash spec's DeletionDate with 'T' and ':'). */
function localStamp(d: Date, sep: string, t: string): string {
  const p = (v: number) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}${sep}${p(d.getHours())}${t}${p(d.getMinutes())}${t}${p(d.getSeconds())}`;
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const msg = (err as Error)?.message ?? String(err);
  return code && !msg.includes(code) ? `${msg} (${code})` : msg;
}
