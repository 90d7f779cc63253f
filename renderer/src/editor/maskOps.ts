/**
 * Whole-mask operations on 8-bit masks (255 = fill, 0 = keep): grow / shrink by a radius,
 * feather (soften the edge), and polygon / rectangle fills for the lasso and marquee tools.
 * Pure functions over Uint8Array, so the UI can run them on a copy for a live preview and
 * commit the same result as one undo step.
 */
import type { Rect } from './geometry.ts';
import { clipRect, emptyRect, isEmptyRect } from './geometry.ts';
import type { Point } from './view.ts';
import { squaredDistanceTo } from '../../../core/image/distance.ts';
import { boxBlurInto } from '../../../core/image/filters.ts';

/**
 * Grow (radius > 0) or shrink (radius < 0) the mask by |radius| pixels with a round
 * structuring element. The new edge gets one pixel of anti-aliasing; soft values that the
 * operation does not cover are kept (grow takes the max, shrink the min).
 */
export function growShrink(src: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const out = src.slice();
  const r = Math.abs(radius);
  if (r === 0) return out;
  if (radius > 0) {
    const d2 = squaredDistanceTo(width, height, (i) => (src[i] as number) >= 128);
    for (let i = 0; i < out.length; i++) {
      const cov = Math.min(1, Math.max(0, r + 1 - Math.sqrt(d2[i] as number)));
      const v = Math.round(cov * 255);
      if (v > (out[i] as number)) out[i] = v;
    }
  } else {
    const d2 = squaredDistanceTo(width, height, (i) => (src[i] as number) < 128);
    for (let i = 0; i < out.length; i++) {
      const cov = Math.min(1, Math.max(0, Math.sqrt(d2[i] as number) - r));
      const v = Math.round(cov * 255);
      if (v < (out[i] as number)) out[i] = v;
    }
  }
  return out;
}

/**
 * Feather: three box blurs approximate a Gaussian whose width is about `radius` pixels on each
 * side of the edge. Mass is preserved away from the image border.
 */
export function feather(src: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const r = Math.max(0, Math.round(radius / 3));
  if (r === 0) return src.slice();
  const a = Float32Array.from(src);
  const tmp = new Float32Array(a.length);
  for (let pass = 0; pass < 3; pass++) boxBlurInto(a, a, tmp, height, width, r);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.round(a[i] as number);
  return out;
}

export type FillMode = 'add' | 'subtract';

/** Bounding rect of a polygon, clipped to the image (exclusive max). */
export function polygonBounds(points: readonly Point[], width: number, height: number): Rect {
  if (points.length === 0) return emptyRect;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p.x);
    y0 = Math.min(y0, p.y);
    x1 = Math.max(x1, p.x);
    y1 = Math.max(y1, p.y);
  }
  return clipRect({ x0: Math.floor(x0), y0: Math.floor(y0), x1: Math.ceil(x1) + 1, y1: Math.ceil(y1) + 1 }, width, height);
}

/**
 * Fill a closed polygon (even-odd rule, pixel centres) with 255 (add) or 0 (subtract).
 * Returns the rect that may have changed.
 */
export function fillPolygon(mask: Uint8Array, width: number, height: number, points: readonly Point[], mode: FillMode): Rect {
  const box = polygonBounds(points, width, height);
  if (points.length < 3 || isEmptyRect(box)) return emptyRect;
  const value = mode === 'add' ? 255 : 0;
  const xs: number[] = [];
  for (let y = box.y0; y < box.y1; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const a = points[i] as Point;
      const b = points[j] as Point;
      if ((a.y > cy) !== (b.y > cy)) xs.push(a.x + ((cy - a.y) / (b.y - a.y)) * (b.x - a.x));
    }
    xs.sort((p, q) => p - q);
    const row = y * width;
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixel x is inside when its centre x + 0.5 lies in [xs[k], xs[k+1]).
      const from = Math.max(box.x0, Math.ceil((xs[k] as number) - 0.5));
      const to = Math.min(box.x1, Math.ceil((xs[k + 1] as number) - 0.5));
      if (to > from) mask.fill(value, row + from, row + to);
    }
  }
  return box;
}

/** Rectangle between two corner points, as a polygon for fillPolygon. */
export function rectPolygon(a: Point, b: Point): Point[] {
  return [
    { x: a.x, y: a.y },
    { x: b.x, y: a.y },
    { x: b.x, y: b.y },
    { x: a.x, y: b.y },
  ];
}
