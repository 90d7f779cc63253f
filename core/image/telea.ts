/**
 * Classic inpainting fill: Telea's fast-marching method (A. Telea, "An Image Inpainting Technique
 * Based on the Fast Marching Method", J. Graphics Tools 9(1), 2004). The hole is filled from its
 * edge inwards, in order of distance to the edge; each pixel is a weighted mean of the first-order
 * extrapolations I(q) + ∇I(q)·(p − q) of the known pixels q within `radius`, weighted by how well
 * p − q follows the marching direction, by distance, and by level-set proximity.
 *
 * Why it exists: it is the fill a user gets with no model at all, so the inpaint pack learns only
 * the change over it (the pack manifest's `inpaintBase: 'classic'`, core/conditions.ts) and its
 * worst case is this fill. Our own code: no maintained pure-JavaScript implementation exists
 * (OpenCV's is C++; its WebAssembly build is a 10 MB dependency for one function).
 *
 * Differences from OpenCV's cv2.inpaint(INPAINT_TELEA), on purpose: a pixel is filled when it is
 * accepted by the march (all its nearer neighbours are final), not when first reached; the
 * gradient term is the paper's extrapolation (OpenCV adds a bounded ±√2/255 term instead), with
 * a filled pixel's gradient carried as the weighted mean of its sources' gradients (so a linear
 * ramp is reproduced and noise is not amplified from one ring to the next); and each fill is
 * clamped to the known pixels' range, because extrapolation can overshoot at edges.
 *
 * Layout: NCHW float32 (any range: the clamp uses the known pixels' range), mask [B or 1, 1, H, W]
 * binarised at 0.5 (1 = fill). Pixels outside the mask are copied bit for bit.
 */
import type { F32Tensor } from '../tensor/ops.ts';
import { shape4 } from '../tensor/layout.ts';

/** Default neighbourhood radius in pixels (OpenCV's examples use 3–5). */
export const TELEA_RADIUS = 5;

const KNOWN = 0;
const BAND = 1;
const INSIDE = 2;
const FAR = 1e6;

/** Binary min-heap of pixel indices keyed by T; stale entries are skipped on pop. */
class MinHeap {
  private keys = new Float64Array(1024);
  private idx = new Int32Array(1024);
  size = 0;

  push(key: number, i: number): void {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      this.keys = k;
      const j = new Int32Array(this.size * 2);
      j.set(this.idx);
      this.idx = j;
    }
    let n = this.size++;
    while (n > 0) {
      const parent = (n - 1) >> 1;
      const pk = this.keys[parent] as number;
      if (pk <= key) break;
      this.keys[n] = pk;
      this.idx[n] = this.idx[parent] as number;
      n = parent;
    }
    this.keys[n] = key;
    this.idx[n] = i;
  }

  /** Pops the smallest; returns its pixel index and leaves its key in `lastKey`. */
  lastKey = 0;
  pop(): number {
    const top = this.idx[0] as number;
    this.lastKey = this.keys[0] as number;
    const n = --this.size;
    const key = this.keys[n] as number;
    const id = this.idx[n] as number;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (this.keys[c + 1] as number) < (this.keys[c] as number)) c++;
      if ((this.keys[c] as number) >= key) break;
      this.keys[i] = this.keys[c] as number;
      this.idx[i] = this.idx[c] as number;
      i = c;
    }
    this.keys[i] = key;
    this.idx[i] = id;
    return top;
  }
}

/** Eikonal |∇T| = 1 update of pixel i from its accepted 4-neighbours. */
function solveEikonal(T: Float64Array, state: Uint8Array, i: number, x: number, y: number, W: number, H: number): number {
  let a = FAR;
  if (x > 0 && state[i - 1] === KNOWN) a = T[i - 1] as number;
  if (x < W - 1 && state[i + 1] === KNOWN) a = Math.min(a, T[i + 1] as number);
  let b = FAR;
  if (y > 0 && state[i - W] === KNOWN) b = T[i - W] as number;
  if (y < H - 1 && state[i + W] === KNOWN) b = Math.min(b, T[i + W] as number);
  if (Math.abs(a - b) >= 1) return Math.min(a, b) + 1;
  const d = a - b;
  return (a + b + Math.sqrt(2 - d * d)) / 2;
}

/**
 * Fast marching from the pixels in state BAND (T = 0) into the pixels in state INSIDE, until T
 * exceeds `stop`; calls `accept(i)` on each pixel as it becomes final. Pixels in state KNOWN at
 * the start are walls that the march neither enters nor reads.
 */
function march(T: Float64Array, state: Uint8Array, W: number, H: number, stop: number, accept: (i: number) => void): void {
  const heap = new MinHeap();
  for (let i = 0; i < state.length; i++) if (state[i] === BAND) heap.push(T[i] as number, i);
  // The walls must not be read by the eikonal update: mark them with a state it ignores.
  const WALL = 3;
  for (let i = 0; i < state.length; i++) if (state[i] === KNOWN) state[i] = WALL;
  while (heap.size > 0) {
    const i = heap.pop();
    if (state[i] === KNOWN || heap.lastKey !== T[i]) continue;
    if (heap.lastKey > stop) break;
    state[i] = KNOWN;
    accept(i);
    const x = i % W;
    const y = (i - x) / W;
    if (x > 0) relax(T, state, heap, i - 1, x - 1, y, W, H);
    if (x < W - 1) relax(T, state, heap, i + 1, x + 1, y, W, H);
    if (y > 0) relax(T, state, heap, i - W, x, y - 1, W, H);
    if (y < H - 1) relax(T, state, heap, i + W, x, y + 1, W, H);
  }
}

/** Lower T of a not-yet-final pixel j from its accepted neighbours and queue it if it dropped. */
function relax(T: Float64Array, state: Uint8Array, heap: MinHeap, j: number, jx: number, jy: number, W: number, H: number): void {
  if (state[j] !== INSIDE) return;
  const t = solveEikonal(T, state, j, jx, jy, W, H);
  if (t < (T[j] as number)) {
    T[j] = t;
    heap.push(t, j);
  }
}

/**
 * The neighbourhood as offsets q − p, with the per-offset constants of the weight precomputed
 * (the same expressions as per pixel, so the fill is unchanged bit for bit): r = p − q, |r|, |r|³.
 */
function diskOffsets(radius: number): { dx: Int32Array; dy: Int32Array; len: Float64Array; len3: Float64Array } {
  const dx: number[] = [];
  const dy: number[] = [];
  const r = Math.ceil(radius);
  for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) if ((x !== 0 || y !== 0) && x * x + y * y <= radius * radius) {
    dx.push(x);
    dy.push(y);
  }
  const len = new Float64Array(dx.length);
  const len3 = new Float64Array(dx.length);
  for (let k = 0; k < dx.length; k++) {
    const rx = -(dx[k] as number);
    const ry = -(dy[k] as number);
    const len2 = rx * rx + ry * ry;
    len[k] = Math.sqrt(len2);
    len3[k] = len2 * (len[k] as number);
  }
  return { dx: Int32Array.from(dx), dy: Int32Array.from(dy), len, len3 };
}

/** Fills the hole pixels of one C×H×W item in place (`out` starts as a copy of the item). */
function fillItem(out: Float32Array, base: number, C: number, H: number, W: number, hole: Uint8Array, radius: number): void {
  const n = H * W;
  // Signed distance: > 0 inside the hole (marched inwards), ≤ 0 outside within the radius (marched
  // outwards), so that the level-set weight and ∇T are smooth across the hole's edge.
  const T = new Float64Array(n);
  const state = new Uint8Array(n);
  const edge = (i: number, x: number, y: number, wantHole: number): boolean =>
    (x > 0 && hole[i - 1] === wantHole) || (x < W - 1 && hole[i + 1] === wantHole) || (y > 0 && hole[i - W] === wantHole) || (y < H - 1 && hole[i + W] === wantHole);
  let anyKnown = false;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (hole[i] === 1) continue;
    anyKnown = true;
    for (let c = 0; c < C; c++) {
      const v = out[base + c * n + i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!anyKnown) {
    // nothing to extend from: a hole over the whole item becomes mid-grey (0 in [−1, 1])
    for (let c = 0; c < C; c++) out.fill(0, base + c * n, base + (c + 1) * n);
    return;
  }
  // outward march over the known pixels (the hole is a wall)
  for (let i = 0; i < n; i++) {
    const x = i % W;
    const y = (i - x) / W;
    if (hole[i] === 1) state[i] = KNOWN;
    else if (edge(i, x, y, 1)) state[i] = BAND;
    else {
      state[i] = INSIDE;
      T[i] = FAR;
    }
  }
  march(T, state, W, H, radius + 1, () => undefined);
  for (let i = 0; i < n; i++) if (hole[i] === 0) T[i] = -Math.min(T[i] as number, radius + 2);

  // inward march: the known edge pixels are the band, the hole is filled as it is accepted
  const known = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = i % W;
    const y = (i - x) / W;
    if (hole[i] === 1) {
      state[i] = INSIDE;
      T[i] = FAR;
    } else {
      known[i] = 1;
      state[i] = edge(i, x, y, 1) ? BAND : KNOWN;
      if (state[i] === BAND) T[i] = 0;
    }
  }
  const { dx, dy, len: lens, len3: lens3 } = diskOffsets(radius);
  const nOffsets = dx.length;
  const reach = Math.ceil(radius);
  const acc = new Float64Array(C);
  const accGx = new Float64Array(C);
  const accGy = new Float64Array(C);
  // ∇I of every known pixel near the hole, from its known neighbours (0 along an axis with none).
  // A filled pixel gets the weighted mean of its sources' gradients rather than differences of
  // filled values: differencing extrapolated values amplifies rounding and noise generation after
  // generation (measured: 1e-3 error on a ramp across a 20 px hole), a mean of gradients cannot.
  const gradX = new Float32Array(C * n);
  const gradY = new Float32Array(C * n);
  for (let i = 0; i < n; i++) {
    if (hole[i] === 1 || (T[i] as number) < -radius - 1) continue;
    const x = i % W;
    const y = (i - x) / W;
    const l = x > 0 && hole[i - 1] === 0;
    const r = x < W - 1 && hole[i + 1] === 0;
    const u = y > 0 && hole[i - W] === 0;
    const d = y < H - 1 && hole[i + W] === 0;
    for (let c = 0; c < C; c++) {
      // plain indexing: a closure made per pixel and channel cost 5 ms of a 256² fill
      const p = base + c * n + i;
      const v = out[p] as number;
      gradX[c * n + i] = l && r ? ((out[p + 1] as number) - (out[p - 1] as number)) / 2 : r ? (out[p + 1] as number) - v : l ? v - (out[p - 1] as number) : 0;
      gradY[c * n + i] = u && d ? ((out[p + W] as number) - (out[p - W] as number)) / 2 : d ? (out[p + W] as number) - v : u ? v - (out[p - W] as number) : 0;
    }
  }
  march(T, state, W, H, Infinity, (i) => {
    if (known[i] === 1) return;
    const x = i % W;
    const y = (i - x) / W;
    const Ti = T[i] as number;
    // marching direction ∇T at i from its final neighbours
    const tl = x > 0 && state[i - 1] === KNOWN;
    const tr = x < W - 1 && state[i + 1] === KNOWN;
    const tu = y > 0 && state[i - W] === KNOWN;
    const td = y < H - 1 && state[i + W] === KNOWN;
    const gx = tl && tr ? ((T[i + 1] as number) - (T[i - 1] as number)) / 2 : tr ? (T[i + 1] as number) - Ti : tl ? Ti - (T[i - 1] as number) : 0;
    const gy = tu && td ? ((T[i + W] as number) - (T[i - W] as number)) / 2 : td ? (T[i + W] as number) - Ti : tu ? Ti - (T[i - W] as number) : 0;
    const gl = Math.hypot(gx, gy) || 1;
    if (C !== 3) {
      acc.fill(0);
      accGx.fill(0);
      accGy.fill(0);
    }
    let sw = 0;
    let a0 = 0, a1 = 0, a2 = 0, gx0 = 0, gx1 = 0, gx2 = 0, gy0 = 0, gy1 = 0, gy2 = 0;
    // away from the borders every offset lands inside the image: no per-offset bounds test
    const interior = x >= reach && y >= reach && x < W - reach && y < H - reach;
    for (let k = 0; k < nOffsets; k++) {
      const qx = x + (dx[k] as number);
      const qy = y + (dy[k] as number);
      if (!interior && (qx < 0 || qy < 0 || qx >= W || qy >= H)) continue;
      const q = qy * W + qx;
      if (known[q] !== 1) continue;
      const rx = x - qx;
      const ry = y - qy;
      const len = lens[k] as number;
      // direction: |cos| of the angle between p − q and the marching normal (floored so that a
      // pixel whose known neighbours all lie sideways still gets a value)
      const dir = Math.max(Math.abs(rx * gx + ry * gy) / (len * gl), 1e-2);
      const w = (dir / (lens3[k] as number)) / (1 + Math.abs((T[q] as number) - Ti));
      sw += w;
      if (C === 3) {
        // the common RGB case in locals (same operations in the same order as the loop below)
        const g0 = gradX[q] as number, h0 = gradY[q] as number;
        const g1 = gradX[q + n] as number, h1 = gradY[q + n] as number;
        const g2 = gradX[q + 2 * n] as number, h2 = gradY[q + 2 * n] as number;
        a0 += w * ((out[base + q] as number) + g0 * rx + h0 * ry);
        a1 += w * ((out[base + n + q] as number) + g1 * rx + h1 * ry);
        a2 += w * ((out[base + 2 * n + q] as number) + g2 * rx + h2 * ry);
        gx0 += w * g0;
        gx1 += w * g1;
        gx2 += w * g2;
        gy0 += w * h0;
        gy1 += w * h1;
        gy2 += w * h2;
        continue;
      }
      for (let c = 0, cq = q, pq = base + q; c < C; c++, cq += n, pq += n) {
        const gxq = gradX[cq] as number;
        const gyq = gradY[cq] as number;
        acc[c] = (acc[c] as number) + w * ((out[pq] as number) + gxq * rx + gyq * ry);
        accGx[c] = (accGx[c] as number) + w * gxq;
        accGy[c] = (accGy[c] as number) + w * gyq;
      }
    }
    if (C === 3) {
      acc[0] = a0;
      acc[1] = a1;
      acc[2] = a2;
      accGx[0] = gx0;
      accGx[1] = gx1;
      accGx[2] = gx2;
      accGy[0] = gy0;
      accGy[1] = gy1;
      accGy[2] = gy2;
    }
    for (let c = 0; c < C; c++) {
      const v = sw > 0 ? (acc[c] as number) / sw : 0;
      out[base + c * n + i] = Math.min(hi, Math.max(lo, v));
      gradX[c * n + i] = sw > 0 ? (accGx[c] as number) / sw : 0;
      gradY[c * n + i] = sw > 0 ? (accGy[c] as number) / sw : 0;
    }
    known[i] = 1;
  });
}

/**
 * Telea fill of every item: [B, C, H, W] image, [B or 1, 1, H, W] mask (≥ 0.5 = fill). Returns a
 * new tensor; pixels outside the mask are the input's, bit for bit.
 */
export function teleaFill(image: F32Tensor, mask: F32Tensor, radius = TELEA_RADIUS): F32Tensor {
  const [B, C, H, W] = shape4(image);
  const [mb, mc, mh, mw] = shape4(mask);
  if (mc !== 1 || mh !== H || mw !== W || (mb !== B && mb !== 1)) throw new RangeError(`Telea fill: the mask must be [${B} or 1, 1, ${H}, ${W}], got [${mb}, ${mc}, ${mh}, ${mw}]`);
  if (!Number.isFinite(radius) || radius < 1) throw new RangeError(`Telea fill: radius must be ≥ 1, got ${radius}`);
  const out = new Float32Array(image.data);
  const plane = H * W;
  const hole = new Uint8Array(plane);
  for (let b = 0; b < B; b++) {
    const ms = (mb === 1 ? 0 : b) * plane;
    let any = false;
    for (let i = 0; i < plane; i++) {
      hole[i] = (mask.data[ms + i] as number) >= 0.5 ? 1 : 0;
      if (hole[i] === 1) any = true;
    }
    if (any) fillItem(out, b * C * plane, C, H, W, hole, radius);
  }
  return { data: out, shape: [B, C, H, W] };
}
