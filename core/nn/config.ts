/**
 * Size and shape of the CoDi network (backbone UNet, adapter, fused denoiser).
 * One config object drives the TF.js trainer, the ONNX exporter and FLOP counting.
 */

/** All the numbers that fix the network's parameter shapes. */
export interface NetConfig {
  /** Channels of the latent z (pixel-unshuffle ×4 of RGB = 48). */
  latentChannels: number;
  /** Channels of encoder level 0; level l has baseChannels · channelMult[l]. */
  baseChannels: number;
  /** One entry per resolution level (L = channelMult.length); level l runs at latent size / 2^l. */
  channelMult: number[];
  /** Residual blocks per encoder level (the decoder uses the same count). */
  resBlocks: number;
  /** GroupNorm groups; must divide every level's channel count. */
  groups: number;
  /** GroupNorm epsilon. */
  eps: number;
  /** Width of the sinusoidal timestep embedding (even). */
  timeDim: number;
  /** Width of the time-embedding MLP output fed to every residual block. */
  embDim: number;
  /** Single-head self-attention in the middle block (lowest resolution). */
  attention: boolean;
  /** Downsampling between encoder levels: 2×2 average pooling or a 3×3 stride-2 conv. */
  downsample: 'avgpool' | 'conv';
  /** Hidden channels of the adapter's condition-embedding conv stack. */
  condHidden: number;
}

export const defaultNetConfig: NetConfig = {
  latentChannels: 48,
  baseChannels: 64,
  channelMult: [1, 2, 2],
  resBlocks: 1,
  groups: 16,
  eps: 1e-5,
  timeDim: 128,
  embDim: 256,
  attention: false,
  downsample: 'avgpool',
  condHidden: 32,
};

/** Number of resolution levels L (also the length of μ and of the mix/feat lists). */
export function levelCount(cfg: NetConfig): number {
  return cfg.channelMult.length;
}

/** Channels of each encoder level's output (= shape of mix_l / feat_l). */
export function levelChannels(cfg: NetConfig): number[] {
  return cfg.channelMult.map((m) => cfg.baseChannels * m);
}

/** Latent height/width must be divisible by this (one halving per level below the top). */
export function spatialMultiple(cfg: NetConfig): number {
  return 2 ** (levelCount(cfg) - 1);
}

/** Throws a readable error when the config cannot build a network. */
export function validateNetConfig(cfg: NetConfig): void {
  const fail = (msg: string): never => {
    throw new Error(`invalid network config: ${msg}`);
  };
  const posInt = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1) fail(`${name} must be a positive integer (got ${v})`);
  };
  posInt(cfg.latentChannels, 'latentChannels');
  posInt(cfg.baseChannels, 'baseChannels');
  posInt(cfg.resBlocks, 'resBlocks');
  posInt(cfg.groups, 'groups');
  posInt(cfg.embDim, 'embDim');
  posInt(cfg.condHidden, 'condHidden');
  posInt(cfg.timeDim, 'timeDim');
  if (cfg.timeDim % 2 !== 0) fail('timeDim must be even');
  if (cfg.channelMult.length < 1) fail('channelMult needs at least one level');
  cfg.channelMult.forEach((m, i) => posInt(m, `channelMult[${i}]`));
  for (const c of levelChannels(cfg)) {
    if (c % cfg.groups !== 0) fail(`groups (${cfg.groups}) must divide level channels (${c})`);
  }
  if (!(cfg.eps > 0)) fail('eps must be > 0');
}
