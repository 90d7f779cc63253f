/**
 * From a loaded pack to a denoiser `(z, t) → v` and a sampled latent: the ONNX graphs are
 * called per step (adapter → backbone with mix/μ for PE-CoDi packs, or the fused denoiser),
 * the sampler itself comes from core/samplers.
 */
import { makeSchedule } from '../../../core/math/schedule.ts';
import { addBase } from '../../../core/residual.ts';
import { Rng } from '../../../core/rng.ts';
import { runSampler } from '../../../core/samplers/index.ts';
import { coolStart, scaledStart } from '../../../core/samplers/start.ts';
import type { DenoiseFn } from '../../../core/samplers/index.ts';
import { f32Ops } from '../../../core/tensor/ops.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import { JobError } from '../jobs/queue.ts';
import type { OrtTensorIn } from '../ort.ts';
import type { PackModel } from '../packs/registry.ts';

const feed = (t: F32Tensor): OrtTensorIn => ({ data: t.data, dims: t.shape });

/**
 * The model as the sampler sees it. `cond` is the condition at latent resolution
 * [1, Cc, h, w]; `text` the instruction embedding [D] when the pack takes one.
 */
export function makeDenoiseFn(model: PackModel, cond: F32Tensor, text: Float32Array | null): DenoiseFn<F32Tensor> {
  const condFeeds: Record<string, OrtTensorIn> = { cond: feed(cond) };
  if (text) condFeeds.text = { data: text, dims: [1, text.length] };
  return async (z, t) => {
    const tFeed: OrtTensorIn = { data: Float32Array.of(t), dims: [1] };
    if (model.kind === 'denoiser') {
      const out = await model.denoiser.run(pick(model.denoiser.inputNames, { z: feed(z), t: tFeed, ...condFeeds }));
      return outputV(out, z);
    }
    if (model.kind === 'adapter') {
      const a = await model.adapter.run(pick(model.adapter.inputNames, { z: feed(z), t: tFeed, ...condFeeds }));
      const feeds: Record<string, OrtTensorIn> = { z: feed(z), t: tFeed };
      for (const [name, value] of Object.entries(a)) {
        const m = /^feat_(\d+)$/.exec(name);
        if (m) feeds[`mix_${m[1]}`] = value;
      }
      const mu = a.mu;
      if (!mu) throw new Error('adapter.onnx produced no mu output');
      feeds.mu = mu;
      const out = await model.backbone.run(pick(model.backbone.inputNames, feeds));
      const v = outputV(out, z);
      // text adapters (edit, custom) also output an offset to v (core/nn/unet.ts textHead)
      return a.delta ? addDelta(v, a.delta) : v;
    }
    throw new Error('a backbone pack on its own is not a tool');
  };
}

function addDelta(v: F32Tensor, delta: OrtTensorIn): F32Tensor {
  if (delta.data.length !== v.data.length) throw new Error(`adapter "delta" has ${delta.data.length} values, expected ${v.data.length}`);
  const out = new Float32Array(v.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (v.data[i] as number) + (delta.data[i] as number);
  requireFinite(out);
  return { data: out, shape: v.shape };
}

function pick(names: readonly string[], all: Record<string, OrtTensorIn>): Record<string, OrtTensorIn> {
  const out: Record<string, OrtTensorIn> = {};
  for (const n of names) {
    const v = all[n];
    if (!v) throw new Error(`the graph needs an input "${n}" that this pipeline does not provide`);
    out[n] = v;
  }
  return out;
}

/** Index of the first NaN/±Inf, or -1. */
export function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    // x - x is 0 for finite x and NaN for NaN/±Inf: one comparison per element.
    if (x - x !== 0) return i;
  }
  return -1;
}

function outputV(out: Record<string, OrtTensorIn>, z: F32Tensor): F32Tensor {
  const v = out.v;
  if (!v) throw new Error('the graph produced no "v" output');
  if (v.data.length !== z.data.length) throw new Error(`"v" has ${v.data.length} values, expected ${z.data.length}`);
  requireFinite(v.data);
  return { data: v.data, shape: [...z.shape] };
}

// A graph with broken weights yields NaN/Inf that the sampler would turn into a black or
// garbage image reported as success; stop at the first step that produces one.
function requireFinite(data: Float32Array): void {
  const bad = firstNonFinite(data);
  if (bad >= 0) {
    throw new JobError('pack-invalid', `the model produced a non-finite value (${data[bad]}) in its output; the job was stopped instead of returning a broken image (the pack's weights may be corrupt)`);
  }
}

export interface SampleOptions {
  steps: number;
  signal: AbortSignal;
  /** Called after each denoising step (0-based i of n). */
  onStep?(i: number, n: number): void;
  /** Seed for samplers that draw fresh noise between steps. */
  seed: number;
}

/** Sample one latent: noise `z_T` [1, C, h, w] → clean latent, with the pack's sampler and schedule. */
export async function sampleLatent(
  model: PackModel,
  cond: F32Tensor,
  text: Float32Array | null,
  noise: F32Tensor,
  opts: SampleOptions,
): Promise<F32Tensor> {
  const m = model.manifest;
  const sched = makeSchedule(m.schedule);
  const out = await runSampler(m.sampler.kind, f32Ops, makeDenoiseFn(model, cond, text), noise, sched, {
    steps: opts.steps,
    signal: opts.signal,
    prediction: m.prediction,
    distillSteps: m.sampler.distillSteps ?? 50,
    rng: new Rng(`renoise:${opts.seed}`),
    onStep: (i, n) => opts.onStep?.(i, n),
  });
  return m.residual === 'condition' ? addBase(out, cond, m.residualScale) : out;
}

/**
 * z_T of one untiled sample at start temperature τ (core/samplers/start.ts): τ·{@link seededNoise},
 * or its negation for the second draw of an antithetic pair. A new array the caller may change.
 */
export function startLatent(tau: number, shape: readonly number[], seed: number, negate = false): F32Tensor {
  if (tau === 0) return { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape: [...shape] };
  const key = `${seed}|${tau}|${shape.join('x')}`;
  let cooled = recentStarts.get(key);
  if (!cooled) {
    cooled = coolStart(seededNoise(shape, seed).data, tau);
    remember(key, cooled);
  }
  return { data: negate ? scaledStart(cooled, 1, true) : cooled.slice(), shape: [...shape] };
}

/**
 * The last few untiled start fields, by seed, temperature and shape. Interactive inpainting runs
 * the same seed (a tool setting) over and over while the user repaints the mask, and drawing the
 * field (Box–Muller over the seeded stream) took 6 ms of each 256² sample; a copy takes 0.3 ms.
 * Capped in bytes, so big images (tiled, with their own row-band noise) never fill it.
 */
const recentStarts = new Map<string, Float32Array>();
const RECENT_STARTS_BYTES = 32 * 1024 * 1024;

function remember(key: string, data: Float32Array): void {
  if (data.byteLength > RECENT_STARTS_BYTES / 4) return;
  recentStarts.set(key, data);
  let bytes = 0;
  for (const d of recentStarts.values()) bytes += d.byteLength;
  // Map iteration is insertion order: the oldest entries go first
  for (const [k, d] of recentStarts) {
    if (bytes <= RECENT_STARTS_BYTES) break;
    recentStarts.delete(k);
    bytes -= d.byteLength;
  }
}

/** z_T for the whole image: one seeded N(0, I) field, so tiles cut from it agree in overlaps. */
export function seededNoise(shape: readonly number[], seed: number): F32Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: new Rng(seed).fillGaussian(new Float32Array(n)), shape: [...shape] };
}

/**
 * The field of {@link seededNoise} ([1, C, h, w]) made a band of rows at a time, for tiled
 * sampling: one generator per channel plane, positioned once, goes on down its plane and rows
 * shared with the previous band are copied, so every value is drawn once and the whole field
 * (384 MB for a 2 MP ×4 restore) is never held. The values are seededNoise's, bit for bit.
 * Bands move down the image: neither their top nor their bottom may go back up.
 */
export class NoiseRows {
  private readonly rngs: Rng[] = [];
  private band = new Float32Array(0);
  private top = 0;
  private bottom = 0;

  constructor(
    readonly shape: readonly [number, number, number, number],
    seed: number,
  ) {
    const [B, C, h, w] = shape;
    if (B !== 1) throw new RangeError('NoiseRows makes one image (batch 1)');
    const rng = new Rng(seed);
    for (let c = 0; c < C; c++) {
      this.rngs.push(Rng.fromState(rng.getState()));
      if (c + 1 < C) rng.skipGaussians(h * w);
    }
  }

  /** Rows [y, y + n) of every plane: [1, C, n, w]. */
  rows(y: number, n: number): F32Tensor {
    const [, C, h, w] = this.shape;
    if (y < this.top || y + n < this.bottom || y + n > h) throw new RangeError(`noise rows [${y}, ${y + n}) after [${this.top}, ${this.bottom}) of ${h}`);
    const held = this.bottom - this.top;
    const keep = Math.max(0, this.bottom - y);
    const out = new Float32Array(C * n * w);
    this.rngs.forEach((rng, c) => {
      const dst = c * n * w;
      if (keep > 0) out.set(this.band.subarray((c * held + y - this.top) * w, (c * held + held) * w), dst);
      else rng.skipGaussians((y - this.bottom) * w);
      rng.fillGaussian(out.subarray(dst + keep * w, dst + n * w));
    });
    this.band = out;
    this.top = y;
    this.bottom = y + n;
    return { data: out, shape: [1, C, n, w] };
  }
}
