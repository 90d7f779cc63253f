/**
 * Deterministic mini-batches from an in-memory latent dataset: a seeded shuffle per epoch
 * (remainder dropped), optional random latent-aligned crops, NCHW items → NHWC tensors.
 * Its whole state (RNG words, order, position) is serialisable for exact resume.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../core/rng.ts';
import type { RngState } from '../../core/rng.ts';
import type { TrainBatch } from '../objectives/types.ts';

/** One example at latent resolution, channels-first (the project's NCHW convention). */
export interface LatentItem {
  /** Clean latent x, [C, h, w]. */
  x: Float32Array;
  /** Condition, [Cc, h, w] (absent for unconditional pretraining data). */
  cond?: Float32Array;
  /** Text/instruction embedding [D]. */
  text?: Float32Array;
}

/** Shapes shared by every item of a split. */
export interface LatentGeometry {
  channels: number;
  condChannels: number;
  textDim: number;
  h: number;
  w: number;
}

/** One batch as host arrays in NHWC (what the PyTorch engine is sent). */
export interface HostBatch {
  batch: number;
  h: number;
  w: number;
  x: Float32Array;
  cond?: Float32Array;
  text?: Float32Array;
}

export interface SamplerState {
  rng: RngState;
  order: number[];
  pos: number;
  epoch: number;
}

/** NCHW items (optionally cropped at (oy, ox) to ch × cw) → one NHWC Float32Array. */
export function packNhwc(items: Float32Array[], C: number, h: number, w: number, crop?: { oy: number[]; ox: number[]; ch: number; cw: number }): Float32Array {
  const ch = crop?.ch ?? h;
  const cw = crop?.cw ?? w;
  const out = new Float32Array(items.length * ch * cw * C);
  items.forEach((src, b) => {
    const oy = crop?.oy[b] ?? 0;
    const ox = crop?.ox[b] ?? 0;
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < ch; y++) {
        const srow = (c * h + y + oy) * w + ox;
        let d = ((b * ch + y) * cw) * C + c;
        for (let x = 0; x < cw; x++, d += C) out[d] = src[srow + x]!;
      }
    }
  });
  return out;
}

/** NHWC [B,h,w,C] data → B NCHW [C,h,w] arrays (the inverse of packNhwc without crop). */
export function unpackNhwc(data: Float32Array | Int32Array | Uint8Array, B: number, h: number, w: number, C: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < B; b++) {
    const a = new Float32Array(C * h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < C; c++) a[(c * h + y) * w + x] = data[((b * h + y) * w + x) * C + c]!;
    out.push(a);
  }
  return out;
}

export class BatchSampler {
  private rng: Rng;
  private order: number[] = [];
  private pos = 0;
  private epoch = 0;

  /**
   * @param crop latent crop size (h, w); omitted = whole items. Must not exceed the items.
   */
  constructor(
    private readonly items: readonly LatentItem[],
    private readonly geo: LatentGeometry,
    readonly batchSize: number,
    seed: number,
    private readonly crop?: { h: number; w: number },
  ) {
    if (items.length < batchSize) throw new Error(`dataset has ${items.length} items, fewer than the batch size ${batchSize}`);
    if (crop && (crop.h > geo.h || crop.w > geo.w)) throw new Error(`crop ${crop.h}×${crop.w} exceeds the latent size ${geo.h}×${geo.w}`);
    this.rng = new Rng(seed);
    this.reshuffle();
  }

  private reshuffle(): void {
    this.order = this.rng.shuffle(Array.from(this.items, (_, i) => i));
    this.pos = 0;
  }

  /** The indices of the next batch (advances the state). */
  nextIndices(): number[] {
    if (this.pos + this.batchSize > this.order.length) {
      this.epoch += 1;
      this.reshuffle();
    }
    const idx = this.order.slice(this.pos, this.pos + this.batchSize);
    this.pos += this.batchSize;
    return idx;
  }

  /** Next batch as NHWC arrays: x [B,h,w,C], cond [B,h,w,Cc], text [B,D] (advances the state). */
  nextArrays(): HostBatch {
    const idx = this.nextIndices();
    const g = this.geo;
    const sel = idx.map((i) => this.items[i]!);
    let crop: { oy: number[]; ox: number[]; ch: number; cw: number } | undefined;
    if (this.crop && (this.crop.h < g.h || this.crop.w < g.w)) {
      crop = {
        ch: this.crop.h,
        cw: this.crop.w,
        oy: sel.map(() => this.rng.int(0, g.h - this.crop!.h + 1)),
        ox: sel.map(() => this.rng.int(0, g.w - this.crop!.w + 1)),
      };
    }
    const h = crop?.ch ?? g.h;
    const w = crop?.cw ?? g.w;
    const batch: HostBatch = { batch: sel.length, h, w, x: packNhwc(sel.map((s) => s.x), g.channels, g.h, g.w, crop) };
    if (g.condChannels > 0) {
      const conds = sel.map((s) => {
        if (!s.cond) throw new Error('dataset item lacks its condition');
        return s.cond;
      });
      batch.cond = packNhwc(conds, g.condChannels, g.h, g.w, crop);
    }
    if (g.textDim > 0) {
      const flat = new Float32Array(sel.length * g.textDim);
      sel.forEach((s, b) => {
        if (!s.text) throw new Error('dataset item lacks its text embedding');
        flat.set(s.text, b * g.textDim);
      });
      batch.text = flat;
    }
    return batch;
  }

  /** Next batch as NHWC tensors (caller disposes via disposeBatch). */
  next(): TrainBatch {
    const a = this.nextArrays();
    const g = this.geo;
    const batch: TrainBatch = { x: tf.tensor4d(a.x, [a.batch, a.h, a.w, g.channels]) };
    if (a.cond) batch.cond = tf.tensor4d(a.cond, [a.batch, a.h, a.w, g.condChannels]);
    if (a.text) batch.text = tf.tensor2d(a.text, [a.batch, g.textDim]);
    return batch;
  }

  getState(): SamplerState {
    return { rng: this.rng.getState(), order: [...this.order], pos: this.pos, epoch: this.epoch };
  }

  setState(s: SamplerState): void {
    if (s.order.length !== this.items.length) throw new Error(`sampler state is for ${s.order.length} items, the dataset has ${this.items.length}`);
    this.rng = Rng.fromState(s.rng);
    this.order = [...s.order];
    this.pos = s.pos;
    this.epoch = s.epoch;
  }
}

export function disposeBatch(b: TrainBatch): void {
  tf.dispose([b.x, ...(b.cond ? [b.cond] : []), ...(b.text ? [b.text] : [])]);
}
