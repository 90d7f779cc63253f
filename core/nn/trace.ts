/**
 * A builder that runs the network on shapes only: it lists the parameters the definition
 * declares (names, shapes, init) and counts FLOPs, without any numeric work.
 * FLOPs count multiply–adds of conv, dense and attention matmuls as 2 each; elementwise
 * ops, norms and pooling are left out (they are a few % of a UNet and memory-bound).
 */
import type { Conv2dSpec, DenseSpec, NnBuilder, ParamInit, ParamSpec } from './builder.ts';
import { validateNetConfig } from './config.ts';
import type { NetConfig } from './config.ts';
import { conv2dParams, denseParams, groupNormParams, sameShape } from './layers.ts';
import { adapterNet, backboneNet, denoiserNet } from './unet.ts';
import type { AdapterOptions } from './unet.ts';

/** Logical NCHW / [B, F] / [L] shape of a traced tensor. */
export interface TracedShape {
  dims: number[];
}

export class TraceBuilder implements NnBuilder<TracedShape> {
  readonly params: ParamSpec[] = [];
  flops = 0;
  private readonly byName = new Map<string, ParamSpec>();

  private declare(specs: ParamSpec[]): void {
    for (const s of specs) {
      if (this.byName.has(s.name)) throw new Error(`parameter ${s.name} is declared twice`);
      this.byName.set(s.name, s);
      this.params.push(s);
    }
  }

  private map(x: TracedShape): [number, number, number, number] {
    if (x.dims.length !== 4) throw new Error(`expected a feature map, got shape [${x.dims}]`);
    return x.dims as [number, number, number, number];
  }

  param(name: string, shape: number[], init: ParamInit): TracedShape {
    this.declare([{ name, shape: [...shape], init }]);
    return { dims: [...shape] };
  }

  conv2d(x: TracedShape, name: string, spec: Conv2dSpec): TracedShape {
    const [b, c, h, w] = this.map(x);
    if (c !== spec.inC) throw new Error(`${name}: input has ${c} channels, conv expects ${spec.inC}`);
    this.declare(conv2dParams(name, spec));
    const ho = Math.ceil(h / spec.stride);
    const wo = Math.ceil(w / spec.stride);
    this.flops += 2 * b * ho * wo * spec.kernel * spec.kernel * spec.inC * spec.outC;
    return { dims: [b, spec.outC, ho, wo] };
  }

  groupNorm(x: TracedShape, name: string, channels: number, groups: number): TracedShape {
    const [, c] = this.map(x);
    if (c !== channels || c % groups !== 0) throw new Error(`${name}: ${c} channels, ${channels} expected, groups ${groups}`);
    this.declare(groupNormParams(name, channels));
    return x;
  }

  silu(x: TracedShape): TracedShape {
    return x;
  }

  add(a: TracedShape, b: TracedShape): TracedShape {
    if (!sameShape(a.dims, b.dims)) throw new Error(`add: shapes [${a.dims}] and [${b.dims}] differ`);
    return a;
  }

  addPerChannel(x: TracedShape, v: TracedShape): TracedShape {
    const [b, c] = this.map(x);
    if (!sameShape(v.dims, [b, c])) throw new Error(`addPerChannel: [${v.dims}] does not fit [${x.dims}]`);
    return x;
  }

  mulPerChannel(x: TracedShape, v: TracedShape): TracedShape {
    const [b, c] = this.map(x);
    if (!sameShape(v.dims, [b, c])) throw new Error(`mulPerChannel: [${v.dims}] does not fit [${x.dims}]`);
    return x;
  }

  scale(x: TracedShape): TracedShape {
    return x;
  }

  mixLevel(a: TracedShape, b: TracedShape, mu: TracedShape, level: number): TracedShape {
    if (!sameShape(a.dims, b.dims)) throw new Error(`mix level ${level}: [${b.dims}] should be [${a.dims}]`);
    if (mu.dims.length !== 1 || level >= (mu.dims[0] ?? 0)) throw new Error(`mix level ${level}: μ has shape [${mu.dims}]`);
    return a;
  }

  avgPool2(x: TracedShape): TracedShape {
    const [b, c, h, w] = this.map(x);
    if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`avgPool2 needs even sizes, got ${h}×${w}`);
    return { dims: [b, c, h / 2, w / 2] };
  }

  upsampleNearest2(x: TracedShape): TracedShape {
    const [b, c, h, w] = this.map(x);
    return { dims: [b, c, h * 2, w * 2] };
  }

  concatChannels(xs: TracedShape[]): TracedShape {
    const [b, , h, w] = this.map(xs[0]!);
    let c = 0;
    for (const x of xs) {
      const d = this.map(x);
      if (d[0] !== b || d[2] !== h || d[3] !== w) throw new Error(`concat: [${d}] does not fit [${xs[0]!.dims}]`);
      c += d[1];
    }
    return { dims: [b, c, h, w] };
  }

  dense(x: TracedShape, name: string, spec: DenseSpec): TracedShape {
    if (x.dims.length !== 2 || x.dims[1] !== spec.inF) throw new Error(`${name}: input [${x.dims}], expects [B, ${spec.inF}]`);
    this.declare(denseParams(name, spec));
    this.flops += 2 * x.dims[0]! * spec.inF * spec.outF;
    return { dims: [x.dims[0]!, spec.outF] };
  }

  timestepEmbedding(t: TracedShape, dim: number): TracedShape {
    if (t.dims.length !== 1) throw new Error(`t must be [B], got [${t.dims}]`);
    return { dims: [t.dims[0]!, dim] };
  }

  attention(q: TracedShape, k: TracedShape, v: TracedShape, channels: number): TracedShape {
    const [b, c, h, w] = this.map(q);
    if (!sameShape(q.dims, k.dims) || !sameShape(q.dims, v.dims) || c !== channels) throw new Error('attention: shape mismatch');
    const n = h * w;
    this.flops += 2 * 2 * b * n * n * c;
    return q;
  }
}

/** Which graph: the backbone, the adapter alone, or both fused. */
export type GraphKind = 'backbone' | 'adapter' | 'denoiser';

/** Batch and latent size a trace runs at (defaults: 1 × 8 × 8). */
export interface TraceSize {
  batch: number;
  height: number;
  width: number;
}

export interface TraceResult {
  /** Parameters of the backbone (backbone/denoiser) and of the adapter (adapter/denoiser). */
  backbone: ParamSpec[];
  adapter: ParamSpec[];
  /** FLOPs of one forward at `size`. */
  flops: number;
  /** Shape of each output: v, or feat_0 … feat_{L−1}, mu, then (text adapters) delta. */
  outputs: number[][];
}

/** Run the definition on shapes. `opts` is required for adapter and denoiser graphs. */
export function traceNetwork(
  cfg: NetConfig,
  kind: GraphKind,
  opts: AdapterOptions = { condChannels: 0, textDim: 0 },
  size: TraceSize = { batch: 1, height: 8, width: 8 },
): TraceResult {
  validateNetConfig(cfg);
  const bb = new TraceBuilder();
  const ab = new TraceBuilder();
  const { batch, height, width } = size;
  const z = { dims: [batch, cfg.latentChannels, height, width] };
  const t = { dims: [batch] };
  const cond = { dims: [batch, opts.condChannels, height, width] };
  const text = opts.textDim > 0 ? { dims: [batch, opts.textDim] } : undefined;
  let outputs: number[][];
  if (kind === 'backbone') {
    outputs = [backboneNet(bb, cfg, z, t).dims];
  } else if (kind === 'adapter') {
    const r = adapterNet(ab, cfg, opts, z, t, cond, text);
    outputs = [...r.features.map((f) => f.dims), r.mu.dims, ...(r.delta ? [r.delta.dims] : [])];
  } else {
    outputs = [denoiserNet(bb, ab, cfg, opts, z, t, cond, text).dims];
  }
  return { backbone: bb.params, adapter: ab.params, flops: bb.flops + ab.flops, outputs };
}

/** FLOPs of one forward of `kind` at the given batch and latent size (for GFLOP/s figures). */
export function countFlops(cfg: NetConfig, kind: GraphKind, size: TraceSize, opts?: AdapterOptions): number {
  return traceNetwork(cfg, kind, opts, size).flops;
}

/** Parameter list of the backbone. */
export function backboneParamSpecs(cfg: NetConfig): ParamSpec[] {
  return traceNetwork(cfg, 'backbone').backbone;
}

/** Parameter list of an adapter for the given condition inputs. */
export function adapterParamSpecs(cfg: NetConfig, opts: AdapterOptions): ParamSpec[] {
  return traceNetwork(cfg, 'adapter', opts).adapter;
}
