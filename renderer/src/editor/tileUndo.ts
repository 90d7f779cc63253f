import type { Command } from './history.ts';
import type { Rect } from './geometry.ts';
import { clipRect, isEmptyRect } from './geometry.ts';

/** A 2-D raster plane that tiles can be copied out of and back into. */
export interface Plane {
  readonly width: number;
  readonly height: number;
  /** Interleaved samples per pixel (1 for a mask, 4 for RGBA). */
  readonly channels: number;
  readonly data: Uint8Array | Uint8ClampedArray;
}

export const DEFAULT_TILE = 64;

interface TileEntry {
  readonly rect: Rect;
  readonly before: Uint8Array;
  after?: Uint8Array;
}

function copyOut(p: Plane, r: Rect): Uint8Array {
  const rowLen = (r.x1 - r.x0) * p.channels;
  const out = new Uint8Array(rowLen * (r.y1 - r.y0));
  for (let y = r.y0; y < r.y1; y++) {
    const src = (y * p.width + r.x0) * p.channels;
    out.set(p.data.subarray(src, src + rowLen), (y - r.y0) * rowLen);
  }
  return out;
}

function copyIn(p: Plane, r: Rect, buf: Uint8Array): void {
  const rowLen = (r.x1 - r.x0) * p.channels;
  for (let y = r.y0; y < r.y1; y++) {
    p.data.set(buf.subarray((y - r.y0) * rowLen, (y - r.y0 + 1) * rowLen), (y * p.width + r.x0) * p.channels);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Lazily captures the tiles an operation is about to touch (copy of the "before" state on
 * first touch), then turns them into one undo entry holding only the tiles that changed.
 * Call `touch(rect)` BEFORE writing into `rect`.
 */
export class TileCapture {
  readonly #plane: Plane;
  readonly #tile: number;
  readonly #tiles = new Map<number, TileEntry>();

  constructor(plane: Plane, tileSize = DEFAULT_TILE) {
    this.#plane = plane;
    this.#tile = tileSize;
  }

  touch(rect: Rect): void {
    const p = this.#plane;
    const r = clipRect(rect, p.width, p.height);
    if (isEmptyRect(r)) return;
    const t = this.#tile;
    const cols = Math.ceil(p.width / t);
    for (let ty = Math.floor(r.y0 / t); ty <= Math.floor((r.y1 - 1) / t); ty++) {
      for (let tx = Math.floor(r.x0 / t); tx <= Math.floor((r.x1 - 1) / t); tx++) {
        const key = ty * cols + tx;
        if (this.#tiles.has(key)) continue;
        const tr = clipRect({ x0: tx * t, y0: ty * t, x1: tx * t + t, y1: ty * t + t }, p.width, p.height);
        this.#tiles.set(key, { rect: tr, before: copyOut(p, tr) });
      }
    }
  }

  /** Put every captured tile back as it was (cancelled operation). */
  revert(): void {
    for (const e of this.#tiles.values()) copyIn(this.#plane, e.rect, e.before);
    this.#tiles.clear();
  }

  /** Undo entry for the tiles that really changed, or null if nothing changed. */
  finish(label: string, onApply?: (dirty: Rect) => void): Command | null {
    const p = this.#plane;
    const changed: TileEntry[] = [];
    for (const e of this.#tiles.values()) {
      const after = copyOut(p, e.rect);
      if (!sameBytes(after, e.before)) changed.push({ rect: e.rect, before: e.before, after });
    }
    this.#tiles.clear();
    if (changed.length === 0) return null;
    return new TilePatchCommand(label, p, changed, onApply);
  }
}

class TilePatchCommand implements Command {
  readonly bytes: number;
  readonly #bounds: Rect;

  readonly label: string;
  readonly plane: Plane;
  readonly tiles: readonly TileEntry[];
  readonly onApply: ((dirty: Rect) => void) | undefined;

  constructor(label: string, plane: Plane, tiles: readonly TileEntry[], onApply?: (dirty: Rect) => void) {
    this.label = label;
    this.plane = plane;
    this.tiles = tiles;
    this.onApply = onApply;
    this.bytes = tiles.reduce((n, e) => n + e.before.length * 2, 0);
    this.#bounds = tiles.reduce<Rect>(
      (b, e) => ({ x0: Math.min(b.x0, e.rect.x0), y0: Math.min(b.y0, e.rect.y0), x1: Math.max(b.x1, e.rect.x1), y1: Math.max(b.y1, e.rect.y1) }),
      { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity },
    );
  }

  undo(): void {
    for (const e of this.tiles) copyIn(this.plane, e.rect, e.before);
    this.onApply?.(this.#bounds);
  }

  redo(): void {
    for (const e of this.tiles) if (e.after) copyIn(this.plane, e.rect, e.after);
    this.onApply?.(this.#bounds);
  }
}
