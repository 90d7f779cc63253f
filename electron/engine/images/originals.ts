/**
 * Which files are open as originals, decided by the engine itself (never by what the renderer
 * says): every image opened from a path remembers the path, every image opened from bytes (the
 * browser's file picker, a paste, a drop) remembers the sha256 of those bytes. A save target is
 * an open original when it is the same file as a remembered path, or when its current content is
 * byte-identical to remembered bytes: the picker's file is found on disk by what it holds.
 * An entry lives until its image is released, so job results saved later (new image ids) are
 * still checked against the photo they came from.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { sameFile } from '../image-io/index.ts';

export type OriginSource = { path: string } | { bytes: Uint8Array };

type Origin = { path: string } | { sha256: string; size: number };

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class OpenOriginals {
  readonly #byImage = new Map<string, Origin>();

  /** Remember where `imageId` was opened from. */
  add(imageId: string, src: OriginSource): void {
    this.#byImage.set(imageId, 'path' in src ? { path: resolve(src.path) } : { sha256: sha256(src.bytes), size: src.bytes.byteLength });
  }

  /** The image was released: its file is no longer open. */
  remove(imageId: string): void {
    this.#byImage.delete(imageId);
  }

  get size(): number {
    return this.#byImage.size;
  }

  /** Whether `target` is a file open as an original (false when it does not exist). */
  async isOriginal(target: string): Promise<boolean> {
    const abs = resolve(target);
    const st = await stat(abs).catch(() => null);
    if (!st?.isFile()) return false;
    const origins = [...this.#byImage.values()];
    for (const o of origins) if ('path' in o && await sameFile(o.path, abs)) return true;
    // Only read the target when some opened bytes have its size (most saves read nothing).
    const sizes = origins.flatMap((o) => ('sha256' in o && o.size === st.size ? [o.sha256] : []));
    if (sizes.length === 0) return false;
    // Unreadable: it cannot be told apart, so it is treated as the original (the safer side).
    const bytes = await readFile(abs).catch(() => null);
    return bytes === null || sizes.includes(sha256(bytes));
  }
}
