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

/**
 * Accumulates tile outputs (batch 1, `channels`, tile size × scale) into the full output.
 * Tiles arrive row by row (the plan's order), and once a tile row starts nothing above its first
 * output row can change, so only a band of float64 rows (the tallest tile row) is kept and the
 * finished rows are written to the float32 result as they complete: a 12-megapixel ×4 restore
 * held 768 MB of float64 for the whole image before. The sums are the same per pixel, in the
 * same order, so the result is bit-identical to accumulating the whole image.
 */
export class TileAccumulator {
  readonly plan: TilePlan;
  readonly channels: number;
  readonly scale: number;
  private readonly band: Float64Array;
  private readonly bandRows: number;
  private readonly out: Float32Array;
  private readonly wy: Float64Array[];
  private readonly wx: Float64Array[];
  private readonly added: Uint8Array;
  private readonly outW: number;
  private readonly H: number;
  private readonly W: number;
  /** First output row (padded grid) not yet written to `out`. */
  private flushed = 0;
  private row = 0;

  constructor(plan: TilePlan, channels: number, scale = 1) {
    if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`scale must be a positive integer, got ${scale}`);
    this.plan = plan;
    this.channels = channels;
    this.scale = scale;
    this.outW = plan.paddedWidth * scale;
    this.H = plan.height * scale;
    this.W = plan.width * scale;
    this.bandRows = Math.max(...plan.ys.map((s) => s.size)) * scale;
    this.band = new Float64Array(channels * this.bandRows * this.outW);
    this.out = new Float32Array(channels * this.H * this.W);
    this.wy = normalisedAxisWeights(plan.ys, scale);
    this.wx = normalisedAxisWeights(plan.xs, scale);
    this.added = new Uint8Array(plan.tiles.length);
  }

  /** Add the model output for `tile` (shape [1, channels, tile.h·scale, tile.w·scale]); tile rows in order. */
  add(tile: TileRect, out: F32Tensor): void {
    const [B, C, h, w] = shape4(out);
    const sc = this.scale;
    if (B !== 1 || C !== this.channels || h !== tile.h * sc || w !== tile.w * sc) {
      throw new RangeError(`tile output [${out.shape.join(', ')}] ≠ [1, ${this.channels}, ${tile.h * sc}, ${tile.w * sc}]`);
    }
    const idx = tile.row * this.plan.xs.length + tile.col;
    if (this.added[idx]) throw new Error(`tile (${tile.row}, ${tile.col}) added twice`);
    if (tile.row < this.row) throw new Error(`tile (${tile.row}, ${tile.col}) came after row ${this.row} had started: add tiles row by row`);
    this.added[idx] = 1;
    if (tile.row > this.row) {
      this.row = tile.row;
      this.flushTo(tile.y * sc);
    }
    const wy = at(this.wy, tile.row);
    const wx = at(this.wx, tile.col);
    const oy = tile.y * sc;
    const ox = tile.x * sc;
    const { outW, band, bandRows } = this;
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < h; y++) {
        const a = (c * bandRows + ((oy + y) % bandRows)) * outW + ox;
        const s = (c * h + y) * w;
        const fy = wy[y] as number;
        for (let x = 0; x < w; x++) band[a + x] = (band[a + x] as number) + fy * (wx[x] as number) * (out.data[s + x] as number);
      }
    }
  }

  /** Write the finished rows [flushed, end) to the result (inside the unpadded size) and clear them in the band. */
  private flushTo(end: number): void {
    const { band, bandRows, outW, out, H, W } = this;
    for (let y = this.flushed; y < end; y++) {
      for (let c = 0; c < this.channels; c++) {
        const a = (c * bandRows + (y % bandRows)) * outW;
        if (y < H) {
          const d = (c * H + y) * W;
          for (let x = 0; x < W; x++) out[d + x] = band[a + x] as number;
        }
        band.fill(0, a, a + outW);
      }
    }
    this.flushed = Math.max(this.flushed, end);
  }

  /** The blended output cropped to the unpadded size: [1, channels, height·scale, width·scale]. */
  result(): F32Tensor {
    const missing = this.added.indexOf(0);
    if (missing >= 0) throw new Error(`tile ${missing} of ${this.added.length} was never added`);
    this.flushTo(this.plan.paddedHeight * this.scale);
    return { data: this.out, shape: [1, this.channels, this.H, this.W] };
  }
}
