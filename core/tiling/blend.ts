/**
 * Blending tile outputs into one image. Each tile is weighted by a raised-cosine ramp across
 * the part it shares with each neighbour (weight 1 elsewhere and along image borders), and
 * weights are normalised by their sum, so overlapping tiles cross-fade smoothly and a region
 * covered by one tile is copied unchanged. Because the plan is a grid, the sum of weights
 * factorises per axis and the normalised weights are precomputed as 1-D tables. Accumulation
 * is in float64 (8 bytes per output value) so agreeing tiles reproduce their values exactly.
 * The weight and pixel loops stay inside the tables' own lengths, so their reads are cast
 * `as number`; tile and span lookups are checked.
 */
import { at } from '../at.ts';
import type { F32Tensor } from '../tensor/ops.ts';
import { shape4 } from '../tensor/layout.ts';
import type { AxisSpan, TilePlan, TileRect } from './plan.ts';

/** Raised-cosine ramp value at fraction u ∈ (0, 1): 0.5 − 0.5·cos(πu). */
function ramp(u: number): number {
  return 0.5 - 0.5 * Math.cos(Math.PI * u);
}

/** Unnormalised 1-D weights of span k (output pixels, `scale` × input). */
export function spanWeights(spans: readonly AxisSpan[], k: number, scale = 1): Float64Array {
  const s = at(spans, k);
  const prev = spans[k - 1];
  const next = spans[k + 1];
  const L = s.size * scale;
  const w = new Float64Array(L).fill(1);
  const before = prev ? (prev.start + prev.size - s.start) * scale : 0;
  const after = next ? (s.start + s.size - next.start) * scale : 0;
  for (let i = 0; i < Math.min(before, L); i++) w[i] = (w[i] as number) * ramp((i + 0.5) / before);
  for (let i = Math.max(0, L - after); i < L; i++) w[i] = (w[i] as number) * ramp((L - i - 0.5) / after);
  return w;
}

/** Normalised weights of every span of an axis: Σ_k over spans covering a pixel = 1. */
export function normalisedAxisWeights(spans: readonly AxisSpan[], scale = 1): Float64Array[] {
  const raw = spans.map((span, k) => ({ o: span.start * scale, w: spanWeights(spans, k, scale) }));
  const last = at(spans, spans.length - 1);
  const total = new Float64Array((last.start + last.size) * scale);
  for (const { o, w } of raw) w.forEach((v, i) => (total[o + i] = (total[o + i] as number) + v));
  return raw.map(({ o, w }) => w.map((v, i) => v / (total[o + i] as number)));
}

/** Accumulates tile outputs (batch 1, `channels`, tile size × scale) into the full output. */
export class TileAccumulator {
  readonly plan: TilePlan;
  readonly channels: number;
  readonly scale: number;
  private readonly acc: Float64Array;
  private readonly wy: Float64Array[];
  private readonly wx: Float64Array[];
  private readonly added: Uint8Array;
  private readonly outH: number;
  private readonly outW: number;

  constructor(plan: TilePlan, channels: number, scale = 1) {
    if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`scale must be a positive integer, got ${scale}`);
    this.plan = plan;
    this.channels = channels;
    this.scale = scale;
    this.outH = plan.paddedHeight * scale;
    this.outW = plan.paddedWidth * scale;
    this.acc = new Float64Array(channels * this.outH * this.outW);
    this.wy = normalisedAxisWeights(plan.ys, scale);
    this.wx = normalisedAxisWeights(plan.xs, scale);
    this.added = new Uint8Array(plan.tiles.length);
  }

  /** Add the model output for `tile` (shape [1, channels, tile.h·scale, tile.w·scale]). */
  add(tile: TileRect, out: F32Tensor): void {
    const [B, C, h, w] = shape4(out);
    const sc = this.scale;
    if (B !== 1 || C !== this.channels || h !== tile.h * sc || w !== tile.w * sc) {
      throw new RangeError(`tile output [${out.shape.join(', ')}] ≠ [1, ${this.channels}, ${tile.h * sc}, ${tile.w * sc}]`);
    }
    const idx = tile.row * this.plan.xs.length + tile.col;
    if (this.added[idx]) throw new Error(`tile (${tile.row}, ${tile.col}) added twice`);
    this.added[idx] = 1;
    const wy = at(this.wy, tile.row);
    const wx = at(this.wx, tile.col);
    const oy = tile.y * sc;
    const ox = tile.x * sc;
    const { outH, outW, acc } = this;
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < h; y++) {
        const a = (c * outH + oy + y) * outW + ox;
        const s = (c * h + y) * w;
        const fy = wy[y] as number;
        for (let x = 0; x < w; x++) acc[a + x] = (acc[a + x] as number) + fy * (wx[x] as number) * (out.data[s + x] as number);
      }
    }
  }

  /** The blended output cropped to the unpadded size: [1, channels, height·scale, width·scale]. */
  result(): F32Tensor {
    const missing = this.added.indexOf(0);
    if (missing >= 0) throw new Error(`tile ${missing} of ${this.added.length} was never added`);
    const H = this.plan.height * this.scale;
    const W = this.plan.width * this.scale;
    const out = new Float32Array(this.channels * H * W);
    for (let c = 0; c < this.channels; c++) {
      for (let y = 0; y < H; y++) {
        const a = (c * this.outH + y) * this.outW;
        const d = (c * H + y) * W;
        for (let x = 0; x < W; x++) out[d + x] = this.acc[a + x] as number;
      }
    }
    return { data: out, shape: [1, this.channels, H, W] };
  }
}
