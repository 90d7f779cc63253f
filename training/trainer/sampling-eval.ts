/**
 * Sampling evaluation on held-out data in TF.js: run a sampler from core/samplers (the same
 * code the engine runs) with the TF.js TensorOps, then PSNR against the ground truth.
 * PSNR is computed in latent space after clamping to [-1, 1]: pixel-unshuffle is a
 * permutation, so this equals the pixel-space PSNR of the decoded image (peak-to-peak 2).
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../../core/math/schedule.ts';
import { Rng } from '../../core/rng.ts';
import { runSampler } from '../../core/samplers/index.ts';
import type { SamplerKind } from '../../core/samplers/index.ts';
import type { Denoiser } from '../objectives/types.ts';
import { checkResidualScale } from '../../core/residual.ts';
import type { ResidualMode } from '../../core/residual.ts';
import { tfOps } from '../tf/tensor-ops-tf.ts';
import { packNhwc } from './batch-sampler.ts';
import type { LatentGeometry, LatentItem } from './batch-sampler.ts';

export interface SamplingEvalOptions {
  kind: SamplerKind;
  steps: number;
  /** Training N of a distilled model (CoDi sampler grid). */
  distillSteps?: number;
  /** Seed of the initial noise (the same seed gives the same z_T for every model compared). */
  seed?: number;
  /** Evaluate in chunks of this many items. */
  batchSize?: number;
  /** The model generates x − b (core/residual.ts): add the condition's image back before scoring. */
  residual?: ResidualMode;
  /** k of y = k·(x − b) (core/residual.ts); default 1. */
  residualScale?: number;
}

export interface SamplingEvalResult {
  kind: SamplerKind;
  steps: number;
  /** Mean of per-image PSNR (dB). */
  psnr: number;
  perImage: number[];
  seconds: number;
}

/** PSNR (dB) of each image of a [B, …] batch in [-1, 1] (peak-to-peak 2); pred is clamped. */
export function psnrPerImage(pred: tf.Tensor, target: tf.Tensor): number[] {
  const mse = tf.tidy(() => {
    const d = tf.sub(tf.clipByValue(pred, -1, 1), target);
    return tf.mean(tf.square(d), [1, 2, 3]);
  });
  const vals = Array.from(mse.dataSync(), (m) => 10 * Math.log10(4 / Math.max(m, 1e-12)));
  mse.dispose();
  return vals;
}

/** Sample every item's target from its condition and report mean PSNR. */
export async function evaluateSampling(
  model: Denoiser,
  items: readonly LatentItem[],
  geo: LatentGeometry,
  sched: Schedule,
  opts: SamplingEvalOptions,
): Promise<SamplingEvalResult> {
  const t0 = performance.now();
  const rng = new Rng(opts.seed ?? 2024);
  const bs = opts.batchSize ?? 16;
  const perImage: number[] = [];
  for (let start = 0; start < items.length; start += bs) {
    const chunk = items.slice(start, start + bs);
    const B = chunk.length;
    const shape: [number, number, number, number] = [B, geo.h, geo.w, geo.channels];
    const x = tf.tensor4d(packNhwc(chunk.map((i) => i.x), geo.channels, geo.h, geo.w), shape);
    const cond = geo.condChannels > 0 ? tf.tensor4d(packNhwc(chunk.map((i) => i.cond!), geo.condChannels, geo.h, geo.w), [B, geo.h, geo.w, geo.condChannels]) : undefined;
    const text = geo.textDim > 0 ? tf.tensor2d(chunk.flatMap((i) => Array.from(i.text!)), [B, geo.textDim]) : undefined;
    const noise = tfOps.randnLike(x, rng);
    const fn = (z: tf.Tensor, t: number) =>
      tf.tidy(() => model({ z: z as tf.Tensor4D, t: tf.fill<tf.Rank.R1>([B], t, 'float32'), ...(cond ? { cond } : {}), ...(text ? { text } : {}) }));
    let out = await runSampler(opts.kind, tfOps, fn, noise, sched, { steps: opts.steps, distillSteps: opts.distillSteps, rng });
    if (opts.residual === 'condition') {
      if (!cond) throw new Error('residual evaluation needs conditional items');
      // b = the condition's first C channels (NHWC here; core/residual.ts defines it on NCHW)
      const withBase = tf.tidy(() => tf.add(tf.div(out, checkResidualScale(opts.residualScale ?? 1)), tf.slice(cond, [0, 0, 0, 0], [B, geo.h, geo.w, geo.channels])));
      out.dispose();
      out = withBase;
    }
    perImage.push(...psnrPerImage(out, x));
    tf.dispose([x, noise, out, ...(cond ? [cond] : []), ...(text ? [text] : [])]);
  }
  const psnr = perImage.reduce((a, b) => a + b, 0) / perImage.length;
  return { kind: opts.kind, steps: opts.steps, psnr, perImage, seconds: (performance.now() - t0) / 1000 };
}

/** PSNR of the condition itself as a prediction (for restore/custom: the upsampled input), a floor to beat. */
export function conditionPsnr(items: readonly LatentItem[], geo: LatentGeometry): number {
  if (geo.condChannels !== geo.channels) return Number.NaN;
  const v = tf.tidy(() => {
    const shape: [number, number, number, number] = [items.length, geo.h, geo.w, geo.channels];
    const x = tf.tensor4d(packNhwc(items.map((i) => i.x), geo.channels, geo.h, geo.w), shape);
    const c = tf.tensor4d(packNhwc(items.map((i) => i.cond!), geo.channels, geo.h, geo.w), shape);
    return psnrPerImage(c, x);
  });
  return v.reduce((a, b) => a + b, 0) / v.length;
}
