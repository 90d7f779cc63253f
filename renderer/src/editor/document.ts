import type { Command, History } from './history.ts';
import { MaskLayer } from './mask.ts';

/** 8-bit RGBA pixels, row-major, no premultiplication (the layout of ImageData). */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

export function makeRgba(width: number, height: number, data?: Uint8ClampedArray): RgbaImage {
  const d = data ?? new Uint8ClampedArray(width * height * 4);
  if (d.length !== width * height * 4) throw new Error(`RGBA buffer has ${d.length} bytes, expected ${width * height * 4} for ${width}×${height}`);
  return { width, height, data: d };
}

/**
 * The open image: current pixels, the mask at the same resolution, and where it came from.
 * Pixels live in a plain class (never a deep reactive proxy); the UI observes `version`.
 */
export class ImageDocument {
  /** Display name, e.g. "cat.jpg". */
  readonly name: string;
  /** Path on disk when known (Electron / open-by-path); null for pasted or dropped blobs. */
  readonly path: string | null;
  #image: RgbaImage;
  #mask: MaskLayer;
  /** The image before the most recent AI result, for before/after comparison. */
  #before: RgbaImage | null = null;
  version = 0;
  #listeners = new Set<() => void>();

  constructor(name: string, path: string | null, image: RgbaImage) {
    this.name = name;
    this.path = path;
    this.#image = image;
    this.#mask = new MaskLayer(image.width, image.height);
  }

  get image(): RgbaImage {
    return this.#image;
  }

  get mask(): MaskLayer {
    return this.#mask;
  }

  get before(): RgbaImage | null {
    return this.#before;
  }

  get width(): number {
    return this.#image.width;
  }

  get height(): number {
    return this.#image.height;
  }

  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  changed(): void {
    this.version++;
    for (const fn of this.#listeners) fn();
  }

  /**
   * Replace the pixels with a tool result as one undoable step. A result of another size
   * (upscaling) gets a fresh empty mask, since the old one no longer lines up.
   */
  applyResult(next: RgbaImage, label: string, history: History): void {
    const prev = { image: this.#image, mask: this.#mask, before: this.#before };
    const nextMask = next.width === prev.image.width && next.height === prev.image.height ? this.#mask : new MaskLayer(next.width, next.height);
    const after = { image: next, mask: nextMask, before: prev.image };
    const set = (s: typeof prev): void => {
      this.#image = s.image;
      this.#mask = s.mask;
      this.#before = s.before;
      this.changed();
    };
    set(after);
    const cmd: Command = {
      label,
      bytes: prev.image.data.byteLength + next.data.byteLength,
      undo: () => set(prev),
      redo: () => set(after),
    };
    history.push(cmd);
  }
}

/** Default name for saving a result next to the original: "photo.jpg" → "photo-codi.png". */
export function defaultSaveName(name: string, ext = 'png'): string {
  const base = name.replace(/[/\\]+$/, '').split(/[/\\]/).pop() ?? 'image';
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base || 'image';
  return `${stem}-codi.${ext}`;
}

/**
 * Default save path: the source's folder when its path is known, else `fallbackFolder` (the
 * shell's absolute save folder, appInfo.saveFolder). A bare name would be resolved against the
 * web server's working folder, i.e. the app's own folder, which is never where a photo belongs.
 */
export function defaultSavePath(doc: { name: string; path: string | null }, ext = 'png', fallbackFolder?: string): string {
  const file = defaultSaveName(doc.name, ext);
  const cut = doc.path ? Math.max(doc.path.lastIndexOf('/'), doc.path.lastIndexOf('\\')) : -1;
  if (doc.path && cut >= 0) return doc.path.slice(0, cut + 1) + file;
  if (!fallbackFolder) return file;
  const sep = fallbackFolder.includes('\\') && !fallbackFolder.includes('/') ? '\\' : '/';
  return /[/\\]$/.test(fallbackFolder) ? fallbackFolder + file : `${fallbackFolder}${sep}${file}`;
}
