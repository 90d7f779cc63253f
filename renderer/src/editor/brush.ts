import type { Rect } from './geometry.ts';
import { clipRect, emptyRect, isEmptyRect } from './geometry.ts';
import type { Point } from './view.ts';

export type BrushMode = 'paint' | 'erase';

/** Brush parameters; `size` is the diameter in image pixels, `hardness` and `opacity` in [0, 1]. */
export interface BrushSettings {
  readonly size: number;
  readonly hardness: number;
  readonly mode: BrushMode;
  /** Peak coverage of a stroke (1 when omitted): a 50 % brush never paints the mask past 128. */
  readonly opacity?: number;
}

export const MIN_BRUSH = 1;
export const MAX_BRUSH = 1000;

/**
 * Coverage of a round dab at distance d from its centre: 1 inside radius·hardness, then a
 * smoothstep falloff to 0 at the radius (hardness 1 = a hard disc, 0 = all falloff).
 */
export function dabAlpha(d: number, radius: number, hardness: number): number {
  if (d >= radius) return 0;
  const inner = radius * Math.min(1, Math.max(0, hardness));
  if (d <= inner) return 1;
  const t = (d - inner) / (radius - inner);
  return 1 - t * t * (3 - 2 * t);
}

/**
 * Stamp one dab into an 8-bit mask. Painting takes the max with the dab's coverage and
 * erasing the min with its complement, so overlapping dabs of one stroke never build up
 * beyond the brush's own profile. Returns the changed-candidate rect (already clipped).
 */
export function stampDab(mask: Uint8Array, width: number, height: number, c: Point, b: BrushSettings, pressure = 1): Rect {
  // Pen pressure scales the coverage (not the size), the way a soft airbrush behaves.
  const peak = Math.min(1, Math.max(0, (b.opacity ?? 1) * pressure));
  const r = Math.max(MIN_BRUSH, b.size) / 2;
  const box = clipRect(
    { x0: Math.floor(c.x - r), y0: Math.floor(c.y - r), x1: Math.ceil(c.x + r) + 1, y1: Math.ceil(c.y + r) + 1 },
    width,
    height,
  );
  if (isEmptyRect(box)) return emptyRect;
  for (let y = box.y0; y < box.y1; y++) {
    const dy = y + 0.5 - c.y;
    const row = y * width;
    for (let x = box.x0; x < box.x1; x++) {
      const dx = x + 0.5 - c.x;
      const a = dabAlpha(Math.hypot(dx, dy), r, b.hardness) * peak;
      if (a <= 0) continue;
      const i = row + x;
      const old = mask[i] ?? 0;
      if (b.mode === 'paint') {
        const v = Math.round(a * 255);
        if (v > old) mask[i] = v;
      } else {
        const v = Math.round((1 - a) * 255);
        if (v < old) mask[i] = v;
      }
    }
  }
  return box;
}

/** Distance between dabs along a stroke: a quarter of the diameter, at least one pixel. */
export function dabSpacing(size: number): number {
  return Math.max(1, size * 0.25);
}

/**
 * Places dabs at equal arc-length spacing along the pointer path, carrying the leftover
 * distance between events so the spacing does not depend on how often pointermove fires.
 */
export class StrokeSpacer {
  readonly spacing: number;
  #last: Point | null = null;
  /** Distance already travelled since the last dab. */
  #carry = 0;

  constructor(spacing: number) {
    this.spacing = spacing;
  }

  /** First dab of the stroke sits exactly at the pointer-down position. */
  begin(p: Point): Point[] {
    this.#last = p;
    this.#carry = 0;
    return [p];
  }

  moveTo(p: Point): Point[] {
    const from = this.#last;
    if (!from) return this.begin(p);
    const dx = p.x - from.x;
    const dy = p.y - from.y;
    const len = Math.hypot(dx, dy);
    const out: Point[] = [];
    let s = this.spacing - this.#carry;
    while (s <= len) {
      const t = s / len;
      out.push({ x: from.x + dx * t, y: from.y + dy * t });
      s += this.spacing;
    }
    this.#carry = len - (s - this.spacing);
    this.#last = p;
    return out;
  }
}
