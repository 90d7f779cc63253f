import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-write.ts';
import type { AtomicWriteIo } from './atomic-write.ts';
import { encodeImageDetailed } from './encode.ts';
import type { EncodeOptions } from './encode.ts';
import { AtomicWriteError, ImageEncodeError } from './errors.ts';
import type { OutputFormat, RgbImage, SourceInfo } from './types.ts';

export interface SaveOptions extends Omit<EncodeOptions, 'format'> {
  /** Defaults to the format the file name's extension names. */
  format?: OutputFormat;
  /** Replace an existing file (never the source, see overwriteSource). Default false. */
  overwrite?: boolean;
  /** Allow replacing the file the image was decoded from. Default false. */
  overwriteSource?: boolean;
  /** Fault injection for tests. */
  io?: Partial<AtomicWriteIo>;
}

export interface SaveResult {
  path: string;
  bytes: number;
  notes: string[];
}

const EXTENSIONS: Record<string, OutputFormat> = {
  '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff', '.avif': 'avif',
};

/** Output format implied by a file name, if any. */
export function formatFromPath(path: string): OutputFormat | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

/**
 * Encode and write atomically. Refuses (AtomicWriteError 'is-source') to replace the file the
 * image came from unless overwriteSource is set, and ('exists') any other existing file unless
 * overwrite is set.
 */
export async function saveImage(img: RgbImage & { source?: SourceInfo }, path: string, options: SaveOptions): Promise<SaveResult> {
  const target = resolve(path);
  const format = options.format ?? formatFromPath(target);
  if (!format) {
    throw new ImageEncodeError('invalid-options', `Cannot tell the format from "${basename(target)}"; name it .png, .jpg, .webp, .tif or .avif, or pass a format.`);
  }
  const sourcePath = img.source?.path;
  const isSource = sourcePath !== undefined && await sameFile(sourcePath, target);
  if (isSource && !options.overwriteSource) {
    throw new AtomicWriteError('is-source', target,
      `Cannot save over "${basename(target)}": it is the original this image was opened from. Save under another name, or confirm replacing the original.`);
  }
  const { overwrite, overwriteSource, io, ...encodeOptions } = options;
  const { bytes, notes } = await encodeImageDetailed(img, { ...encodeOptions, format });
  await writeFileAtomic(target, bytes, { overwrite: Boolean(overwrite || (isSource && overwriteSource)), io });
  return { path: target, bytes: bytes.length, notes };
}

/** Same file when both exist with the same device and inode, or when their real paths agree. */
async function sameFile(a: string, b: string): Promise<boolean> {
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
