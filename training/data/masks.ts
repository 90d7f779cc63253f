/**
 * Inpainting masks (1 = fill, 0 = keep), deterministic under a seeded {@link Rng}. Styles follow the
 * Palette re-implementation described in docs/method.md §8.3, with sizes given for 256² and scaled
 * by min(W, H)/256:
 * - `brush`: free-form strokes (DeepFill v2 / Palette): 1–4 loops, each a polyline of 4–12 vertices
 *   with alternating turn angles around 2π/5 ± 2π/15, segment length ~ N(r̄, r̄/2) clipped to [0, 2r̄]
 *   with r̄ = diag/8, width 12–40, discs at the vertices, random flips;
 * - `box`: one rectangle 32–128 px a side, 20 px from the border;
 * - `irregular`: blobs and strokes added until a target coverage drawn from [15 %, 50 %] is reached;
 * - `person`: what a user paints with a round brush in an editor: 1–3 smooth strokes or back-and-forth
 *   scribbles over an object, brush diameter from a small/medium/large/huge set (3–16 % of the side);
 * - `side`: one image side (25–50 %), an outpainting-like case (Palette's "onedirection" crop).
 */
import { at } from '../../core/at.ts';
import type { Rng } from '../../core/rng.ts';
import { choice } from './kernels.ts';

export type MaskStyle = 'brush' | 'box' | 'irregular' | 'person' | 'side';
export const MASK_STYLES: readonly MaskStyle[] = ['brush', 'box', 'irregular', 'person', 'side'];
/** Mixture used when no style is forced (the style mix of CoDi's own data is unknown). */
export const DEFAULT_MASK_MIX: Readonly<Record<MaskStyle, number>> = { brush: 0.3, box: 0.15, irregular: 0.2, person: 0.3, side: 0.05 };

/** Binary mask, row-major, 1 = fill. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

function emptyMask(width: number, height: number): Mask {
  return { width, height, data: new Uint8Array(width * height) };
}

export function coverage(mask: Mask): number {
  let s = 0;
  for (const v of mask.data) s += v;
  return s / mask.data.length;
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

/** Paint a segment of the given width with round caps (exact distance test over its bounding box). */
export function drawSegment(m: Mask, x0: number, y0: number, x1: number, y1: number, width: number): void {
  const r = width / 2;
  const minX = Math.max(0, Math.floor(Math.min(x0, x1) - r));
  const maxX = Math.min(m.width - 1, Math.ceil(Math.max(x0, x1) + r));
  const minY = Math.max(0, Math.floor(Math.min(y0, y1) - r));
  const maxY = Math.min(m.height - 1, Math.ceil(Math.max(y0, y1) + r));
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const r2 = r * r;
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      // pixel centres at +0.5
      const px = x + 0.5 - x0;
      const py = y + 0.5 - y0;
      let t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - t * dx;
      const ey = py - t * dy;
      if (ex * ex + ey * ey <= r2) m.data[y * m.width + x] = 1;
    }
  }
}

function drawEllipse(m: Mask, cx: number, cy: number, rx: number, ry: number, theta: number): void {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const ext = Math.max(rx, ry);
  for (let y = Math.max(0, Math.floor(cy - ext)); y <= Math.min(m.height - 1, Math.ceil(cy + ext)); y++) {
    for (let x = Math.max(0, Math.floor(cx - ext)); x <= Math.min(m.width - 1, Math.ceil(cx + ext)); x++) {
      const px = x + 0.5 - cx;
      const py = y + 0.5 - cy;
      const u = (c * px + s * py) / rx;
      const v = (-s * px + c * py) / ry;
      if (u * u + v * v <= 1) m.data[y * m.width + x] = 1;
    }
  }
}

function flip(m: Mask, horizontal: boolean, vertical: boolean): Mask {
  if (!horizontal && !vertical) return m;
  const out = emptyMask(m.width, m.height);
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      const sx = horizontal ? m.width - 1 - x : x;
      const sy = vertical ? m.height - 1 - y : y;
      out.data[y * m.width + x] = m.data[sy * m.width + sx] as number;
    }
  }
  return out;
}

/** Palette / DeepFill v2 free-form brush strokes. */
export function brushStrokeMask(rng: Rng, width: number, height: number): Mask {
  const k = Math.min(width, height) / 256;
  const m = emptyMask(width, height);
  const meanAngle = (2 * Math.PI) / 5;
  const angleRange = (2 * Math.PI) / 15;
  const avgRadius = Math.hypot(width, height) / 8;
  const loops = rng.int(1, 5);
  for (let l = 0; l < loops; l++) {
    const vertices = rng.int(4, 13);
    const angleMin = meanAngle - uniform(rng, 0, angleRange);
    const angleMax = meanAngle + uniform(rng, 0, angleRange);
    const strokeWidth = uniform(rng, 12, 40) * k;
    let x = uniform(rng, 0, width);
    let y = uniform(rng, 0, height);
    drawSegment(m, x, y, x, y, strokeWidth);
    for (let v = 0; v < vertices; v++) {
      const a = uniform(rng, angleMin, angleMax);
      const angle = v % 2 === 0 ? 2 * Math.PI - a : a;
      const r = Math.min(2 * avgRadius, Math.max(0, avgRadius + (avgRadius / 2) * rng.normal()));
      const nx = Math.min(width - 1, Math.max(0, x + r * Math.cos(angle)));
      const ny = Math.min(height - 1, Math.max(0, y + r * Math.sin(angle)));
      drawSegment(m, x, y, nx, ny, strokeWidth);
      x = nx;
      y = ny;
    }
  }
  return flip(m, rng.uniform() < 0.5, rng.uniform() < 0.5);
}

/** One rectangle, 32–128 px a side at 256², kept 20 px from the border. */
export function boxMask(rng: Rng, width: number, height: number): Mask {
  const k = Math.min(width, height) / 256;
  const margin = Math.round(20 * k);
  const m = emptyMask(width, height);
  const bw = Math.round(uniform(rng, 32, 128) * k);
  const bh = Math.round(uniform(rng, 32, 128) * k);
  const left = rng.int(margin, Math.max(margin + 1, width - margin - bw + 1));
  const top = rng.int(margin, Math.max(margin + 1, height - margin - bh + 1));
  for (let y = top; y < Math.min(height, top + bh); y++) m.data.fill(1, y * width + left, y * width + Math.min(width, left + bw));
  return m;
}

/** Blobs and strokes until coverage reaches a target in [lo, hi] (default 15–50 %). */
export function irregularMask(rng: Rng, width: number, height: number, lo = 0.15, hi = 0.5): Mask {
  const target = uniform(rng, lo, hi);
  const side = Math.min(width, height);
  let m = emptyMask(width, height);
  let cov = 0;
  for (let attempt = 0; attempt < 400 && cov < target; attempt++) {
    const next: Mask = { width, height, data: m.data.slice() };
    if (rng.uniform() < 0.5) {
      const r = side * uniform(rng, 0.05, 0.18);
      drawEllipse(next, uniform(rng, 0, width), uniform(rng, 0, height), r, r * uniform(rng, 0.4, 1), uniform(rng, 0, Math.PI));
    } else {
      const w = side * uniform(rng, 0.04, 0.12);
      let x = uniform(rng, 0, width);
      let y = uniform(rng, 0, height);
      let a = uniform(rng, 0, 2 * Math.PI);
      for (let s = rng.int(2, 6); s > 0; s--) {
        a += uniform(rng, -1.2, 1.2);
        const len = side * uniform(rng, 0.1, 0.3);
        const nx = x + len * Math.cos(a);
        const ny = y + len * Math.sin(a);
        drawSegment(next, x, y, nx, ny, w);
        x = nx;
        y = ny;
      }
    }
    const c = coverage(next);
    // reject an element that overshoots the upper bound; smaller ones will follow
    if (c <= hi) {
      m = next;
      cov = c;
    }
  }
  return m;
}

/** Brush diameters of a person painting a mask, as fractions of the short side. */
export const PERSON_BRUSH_SIZES: readonly number[] = [0.03, 0.06, 0.1, 0.16];

/** Strokes shaped like a user's: smooth curves or back-and-forth scribbles over an object. */
export function personStrokeMask(rng: Rng, width: number, height: number): Mask {
  const side = Math.min(width, height);
  const m = emptyMask(width, height);
  const brush = Math.max(1.5, side * (PERSON_BRUSH_SIZES[rng.int(0, PERSON_BRUSH_SIZES.length)] as number) * uniform(rng, 0.8, 1.25));
  const strokes = rng.int(1, 4);
  for (let s = 0; s < strokes; s++) {
    if (rng.uniform() < 0.5) {
      // scribble: parallel passes across an object-sized region, with hand jitter
      const cx = uniform(rng, 0.2, 0.8) * width;
      const cy = uniform(rng, 0.2, 0.8) * height;
      const extent = side * uniform(rng, 0.1, 0.35);
      const along = uniform(rng, 0, Math.PI);
      const passes = rng.int(2, 7);
      const spacing = brush * uniform(rng, 0.6, 1.0);
      let px = cx;
      let py = cy;
      for (let p = 0; p < passes; p++) {
        const off = (p - (passes - 1) / 2) * spacing;
        const dir = p % 2 === 0 ? 1 : -1;
        const ex = cx + dir * extent * Math.cos(along) - off * Math.sin(along) + rng.normal() * brush * 0.2;
        const ey = cy + dir * extent * Math.sin(along) + off * Math.cos(along) + rng.normal() * brush * 0.2;
        drawSegment(m, px, py, ex, ey, brush);
        px = ex;
        py = ey;
      }
    } else {
      // a smooth curve: heading changes slowly, like a wrist movement
      let x = uniform(rng, 0, width);
      let y = uniform(rng, 0, height);
      let heading = uniform(rng, 0, 2 * Math.PI);
      let turn = 0;
      const steps = rng.int(10, 40);
      const stepLen = side * uniform(rng, 0.01, 0.03);
      for (let i = 0; i < steps; i++) {
        turn = 0.8 * turn + 0.15 * rng.normal();
        heading += turn;
        const nx = Math.min(width, Math.max(0, x + stepLen * Math.cos(heading)));
        const ny = Math.min(height, Math.max(0, y + stepLen * Math.sin(heading)));
        drawSegment(m, x, y, nx, ny, brush);
        x = nx;
        y = ny;
      }
    }
  }
  return m;
}

/** One side of the image, 25–50 % of it. */
export function sideMask(rng: Rng, width: number, height: number): Mask {
  const m = emptyMask(width, height);
  const frac = uniform(rng, 0.25, 0.5);
  const which = rng.int(0, 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = which === 0 ? x < frac * width : which === 1 ? x >= (1 - frac) * width : which === 2 ? y < frac * height : y >= (1 - frac) * height;
      if (inside) m.data[y * width + x] = 1;
    }
  }
  return m;
}

const GENERATORS: Readonly<Record<MaskStyle, (rng: Rng, w: number, h: number) => Mask>> = {
  brush: brushStrokeMask,
  box: boxMask,
  irregular: (rng, w, h) => irregularMask(rng, w, h),
  person: personStrokeMask,
  side: sideMask,
};

/** Draw a mask of the given style, or from the mixture; never empty, never full. */
export function sampleMask(rng: Rng, width: number, height: number, style?: MaskStyle, mix: Readonly<Record<MaskStyle, number>> = DEFAULT_MASK_MIX): { mask: Mask; style: MaskStyle } {
  const chosen = style ?? at(MASK_STYLES, choice(rng, MASK_STYLES.map((s) => mix[s])));
  for (let tries = 0; tries < 20; tries++) {
    const mask = GENERATORS[chosen](rng, width, height);
    const c = coverage(mask);
    if (c > 0.005 && c < 0.95) return { mask, style: chosen };
  }
  return { mask: boxMask(rng, width, height), style: 'box' };
}
