/** Tiny network and random latent data shared by the trainer tests (not a test file itself). */
import type { NetConfig } from '../../core/nn/config.ts';
import { Rng } from '../../core/rng.ts';
import type { LatentGeometry, LatentItem } from './batch-sampler.ts';

export const TINY_NET: NetConfig = {
  latentChannels: 48,
  baseChannels: 8,
  channelMult: [1, 2],
  resBlocks: 1,
  groups: 4,
  eps: 1e-5,
  timeDim: 16,
  embDim: 16,
  attention: false,
  downsample: 'avgpool',
  condHidden: 8,
};

/** Smooth-ish random latents with a condition that is a noisy copy of x (a learnable task). */
export function randomLatentData(n: number, h: number, w: number, seed: number, condChannels = 48): { items: LatentItem[]; geometry: LatentGeometry } {
  const rng = new Rng(seed);
  const items: LatentItem[] = [];
  for (let i = 0; i < n; i++) {
    const x = rng.fillGaussian(new Float32Array(48 * h * w), 0, 0.5);
    const cond = new Float32Array(condChannels * h * w);
    for (let k = 0; k < cond.length; k++) cond[k] = x[k % x.length]! + 0.1 * rng.normal();
    items.push({ x, cond });
  }
  return { items, geometry: { channels: 48, condChannels, textDim: 0, h, w } };
}
