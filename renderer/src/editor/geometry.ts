/** Axis-aligned integer rectangle in image pixels; x1/y1 are exclusive. */
export interface Rect {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export const emptyRect: Rect = { x0: 0, y0: 0, x1: 0, y1: 0 };

export function isEmptyRect(r: Rect): boolean {
  return r.x1 <= r.x0 || r.y1 <= r.y0;
}

export function unionRect(a: Rect, b: Rect): Rect {
  if (isEmptyRect(a)) return b;
  if (isEmptyRect(b)) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

/** Clip to [0,w)×[0,h); returns an empty rect when nothing is left. */
export function clipRect(r: Rect, w: number, h: number): Rect {
  const c = { x0: Math.max(0, r.x0), y0: Math.max(0, r.y0), x1: Math.min(w, r.x1), y1: Math.min(h, r.y1) };
  return isEmptyRect(c) ? emptyRect : c;
}
