import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-write.ts';
import type { AtomicWriteIo } from './atomic-write.ts';
import { encodeImageDetailed } from './encode.ts';
import type { EncodeOptions } from './encode.ts';
import { AtomicWriteError, ImageEncodeError } from './errors.ts';
import { BACKUP_FOLDER, keepOriginal } from './keep-original.ts';
import type { KeepOriginalOptions, KeptOriginal } from './keep-original.ts';
import type { OutputFormat, RgbImage, SourceInfo } from './types.ts';

export interface SaveOptions extends Omit<EncodeOptions, 'format'> {
  /** Defaults to the format the file name's extension names. */
  format?: OutputFormat;
  /** Replace an existing file (never an original, see replaceOriginal). Default false. */
  overwrite?: boolean;
  /**
   * The caller knows the target is a file that is open as an original (the engine tracks which
   * files its images came from, including ones uploaded as bytes). The file the image itself
   * was decoded from counts as one without being named.
   */
  original?: boolean;
  /**
   * The user confirmed replacing the original (on top of overwrite). Its bytes are kept first
   * (keepOriginal: the trash, else a backup folder); if that fails nothing is replaced.
   */
  replaceOriginal?: boolean;
  /** Where and how the original is kept (tests point it at a temporary trash). */
  keep?: KeepOriginalOptions;
  /** Fault injection for tests. */
  io?: Partial<AtomicWriteIo>;
}

export interface SaveResult {
  path: string;
  bytes: number;
  notes: string[];
  /** Where the replaced original's bytes were kept, when an original was replaced. */
  keptOriginal?: { place: KeptOriginal['place']; path: string };
}

const EXTENSIONS: Record<string, OutputFormat> = {
  '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff', '.avif': 'avif',
};

/** Output format implied by a file name, if any. */
export function formatFromPath(path: string): OutputFormat | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

/**
 * Encode and write atomically. An original (the file the image came from, or one the caller
 * names) is refused with AtomicWriteError 'is-source' without overwrite and 'is-original' with
 * overwrite but without replaceOriginal; with both, its bytes are kept before it is replaced.
 * Any other existing file is refused ('exists') unless overwrite is set.
 */
export async function saveImage(img: RgbImage & { source?: SourceInfo }, path: string, options: SaveOptions): Promise<SaveResult> {
  const target = resolve(path);
  const format = options.format ?? formatFromPath(target);
  if (!format) {
    throw new ImageEncodeError('invalid-options', `Cannot tell the format from "${basename(target)}"; name it .png, .jpg, .webp, .tif or .avif, or pass a format.`);
  }
  const sourcePath = img.source?.path;
  const isOriginal = Boolean(options.original) || (sourcePath !== undefined && await sameFile(sourcePath, target));
  if (isOriginal && !options.overwrite) {
    throw new AtomicWriteError('is-source', target,
      `Cannot save over "${basename(target)}": it is the original this image was opened from. Save under another name, or confirm replacing the original.`);
  }
  if (isOriginal && !options.replaceOriginal) {
    throw new AtomicWriteError('is-original', target,
      `"${basename(target)}" is the original this image was opened from. Replacing it needs its own confirmation; its current file would be kept (in the trash or a "${BACKUP_FOLDER}" folder) first.`);
  }
  const { overwrite, original: _original, replaceOriginal: _replace, keep, io, ...encodeOptions } = options;
  const { bytes, notes } = await encodeImageDetailed(img, { ...encodeOptions, format });
  // Encoded first: a file that cannot be encoded never sends the original to the trash.
  const kept = isOriginal && await exists(target) ? await keepOriginal(target, keep) : undefined;
  try {
    await writeFileAtomic(target, bytes, { overwrite: Boolean(overwrite), io });
  } catch (err) {
    // The original is still in place: the copy made for it would only confuse.
    await kept?.discard();
    throw err;
  }
  return { path: target, bytes: bytes.length, notes, ...(kept ? { keptOriginal: { place: kept.place, path: kept.path } } : {}) };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Same file when both exist with the same device and inode, or when their real paths agree. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    try {
      const ra = await realpath(resolve(a));
      const rb = join(await realpath(dirname(resolve(b))), basename(b));
      return ra === rb;
    } catch {
      return false;
    }
  }
}
