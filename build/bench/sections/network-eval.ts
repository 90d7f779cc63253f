/**
 * One evaluation of a pack's network (adapter → backbone, or the fused denoiser) through the
 * engine's own denoise function, with its analytic FLOP count.
 */
import type { NetConfig } from '../../../core/nn/config.ts';
import { countFlops } from '../../../core/nn/trace.ts';
import { makeDenoiseFn, seededNoise } from '../../../electron/engine/pipelines/denoise.ts';
import type { PackModel } from '../../../electron/engine/packs/registry.ts';

export interface NetworkEval {
  flops: number;
  run(): Promise<unknown>;
}

/** FLOPs of one denoiser call of `model` at a latent h×w. */
export function packFlops(model: PackModel, net: NetConfig, h: number, w: number): number {
  const m = model.manifest;
  const size = { batch: 1, height: h, width: w };
  if (model.kind === 'backbone') return countFlops(net, 'backbone', size);
  return countFlops(net, 'denoiser', size, { condChannels: m.conditionChannels, textDim: m.textEmbeddingDim });
}

/** A runnable network eval at `side`² pixels, conditioned on seeded noise (timing only). */
export async function networkEval(model: PackModel, net: NetConfig, side: number, seed: number): Promise<NetworkEval> {
  const m = model.manifest;
  const r = m.latent.factor;
  const h = side / r;
  const z = seededNoise([1, 3 * r * r, h, h], seed);
  const cond = seededNoise([1, m.conditionChannels, h, h], seed + 1);
  const text = m.textEmbeddingDim > 0 ? new Float32Array(m.textEmbeddingDim) : null;
  const fn = makeDenoiseFn(model, cond, text);
  return { flops: packFlops(model, net, h, h), run: () => Promise.resolve(fn(z, 500)) };
}
