/**
 * The small set of operations the CoDi network is written in. The network (unet.ts) is
 * generic over this interface and is executed by several builders: TF.js for training
 * (NHWC tensors), the ONNX exporter (NCHW graph nodes) and a shape tracer that lists
 * parameters and counts FLOPs. Because all of them run the same definition, training
 * and inference cannot drift apart.
 *
 * Layout-independent conventions every builder follows:
 * - a "map" is a feature map [B, C, H, W] in the builder's own layout; a "vec" is [B, F];
 * - conv weights are stored HWIO ([k, k, in, out]) with bias [out]; dense weights [in, out];
 * - concatChannels concatenates in argument order (so stored weights mean the same everywhere).
 */

/** How a parameter starts out before training. */
export type ParamInit =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  /** Normal(0, std²). */
  | { kind: 'normal'; std: number };

/** A named trainable tensor, as declared by the network definition. */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: ParamInit;
}

export interface Conv2dSpec {
  inC: number;
  outC: number;
  kernel: 1 | 3;
  stride: 1 | 2;
  /** Zero kernel and bias (ControlNet-style zero convolution). */
  zeroInit?: boolean;
}

export interface DenseSpec {
  inF: number;
  outF: number;
  zeroInit?: boolean;
}

/** Operations of the network. `name` arguments are parameter prefixes (`${name}.w`, `${name}.b`, …). */
export interface NnBuilder<T> {
  /** A free parameter tensor (e.g. μ), returned as-is. */
  param(name: string, shape: number[], init: ParamInit): T;
  /** Same-padded convolution (TF 'SAME': extra padding at the end for stride 2). Params `.w` HWIO, `.b`. */
  conv2d(x: T, name: string, spec: Conv2dSpec): T;
  /** GroupNorm over (C/groups, H, W) per sample and group, then per-channel `.gamma`, `.beta`. */
  groupNorm(x: T, name: string, channels: number, groups: number, eps: number): T;
  silu(x: T): T;
  /** Elementwise sum of two tensors of equal shape. */
  add(a: T, b: T): T;
  /** map [B,C,H,W] + vec [B,C] broadcast over H, W. */
  addPerChannel(x: T, v: T): T;
  /** map [B,C,H,W] · vec [B,C] broadcast over H, W. */
  mulPerChannel(x: T, v: T): T;
  /** x · s for a constant s. */
  scale(x: T, s: number): T;
  /** (1 − μ[l])·a + μ[l]·b, computed as a + μ[l]·(b − a); `mu` is a [L] vector. */
  mixLevel(a: T, b: T, mu: T, level: number): T;
  /** 2×2 average pooling, stride 2. */
  avgPool2(x: T): T;
  /** Nearest-neighbour ×2 upsampling (each pixel copied to a 2×2 block). */
  upsampleNearest2(x: T): T;
  /** Concatenation along channels, in argument order. */
  concatChannels(xs: T[]): T;
  /** vec [B, inF] → [B, outF] with `.w` [inF, outF], `.b` [outF]. */
  dense(x: T, name: string, spec: DenseSpec): T;
  /** t [B] → [B, dim]: [cos(t·f_i), sin(t·f_i)], f_i = 10000^(−i/(dim/2)), i < dim/2. */
  timestepEmbedding(t: T, dim: number): T;
  /**
   * Single-head attention over spatial positions of three maps of equal shape:
   * out[p] = Σ_q softmax_q(⟨q_p, k_q⟩ / √C) · v_q.
   */
  attention(q: T, k: T, v: T, channels: number): T;
}
