/**
 * A builder that records the network as a flat op list (a "graph spec", plain JSON), so an
 * engine outside TypeScript can run the SAME definition (unet.ts) instead of a second copy of
 * it: the PyTorch trainer in training/torch reads this list and executes it op by op.
 *
 * Shapes and parameter declarations come from TraceBuilder, so a spec is checked exactly like
 * a trace. Parameter names carry their set as a prefix ('backbone/conv_in.w', 'adapter/mu'),
 * the keys the trainer and its checkpoints use. Weights keep the builder conventions (conv
 * HWIO, dense [in, out]); an engine with another layout converts them when it loads them.
 */
import type { Conv2dSpec, DenseSpec, NnBuilder, ParamInit, ParamSpec } from './builder.ts';
import type { NetConfig } from './config.ts';
import { validateNetConfig } from './config.ts';
import { conv2dParams, denseParams, groupNormParams } from './layers.ts';
import { TraceBuilder } from './trace.ts';
import type { TracedShape } from './trace.ts';
import { backboneNet, denoiserNet } from './unet.ts';
import type { AdapterOptions } from './unet.ts';

/** One recorded operation; tensor operands and results are value ids. */
export type GraphOp =
  | { op: 'param'; out: number; name: string }
  | { op: 'conv2d'; out: number; x: number; w: string; b: string; kernel: 1 | 3; stride: 1 | 2 }
  | { op: 'groupNorm'; out: number; x: number; gamma: string; beta: string; groups: number; eps: number }
  | { op: 'silu'; out: number; x: number }
  | { op: 'add'; out: number; a: number; b: number }
  | { op: 'addPerChannel'; out: number; x: number; v: number }
  | { op: 'mulPerChannel'; out: number; x: number; v: number }
  | { op: 'scale'; out: number; x: number; s: number }
  | { op: 'mixLevel'; out: number; a: number; b: number; mu: number; level: number }
  | { op: 'avgPool2'; out: number; x: number }
  | { op: 'upsampleNearest2'; out: number; x: number }
  | { op: 'concatChannels'; out: number; xs: number[] }
  | { op: 'dense'; out: number; x: number; w: string; b: string }
  | { op: 'timestepEmbedding'; out: number; t: number; dim: number }
  | { op: 'attention'; out: number; q: number; k: number; v: number; channels: number };

/** Which network a spec computes: the backbone alone (z, t) or backbone + adapter (z, t, cond[, text]). */
export type SpecKind = 'backbone' | 'denoiser';

export interface GraphSpec {
  format: 'codi-graph';
  version: 1;
  kind: SpecKind;
  /** Graph inputs in order; z and cond are maps [B, C, H, W], t is [B], text [B, D]. */
  inputs: Array<{ name: 'z' | 't' | 'cond' | 'text'; id: number }>;
  output: number;
  /** Every parameter the ops read, with its set prefix, builder-convention shape and init. */
  params: ParamSpec[];
  ops: GraphOp[];
}

/** Value ids and op list shared by the backbone's and the adapter's builders of one graph. */
class GraphTape {
  readonly ops: GraphOp[] = [];
  private next = 0;
  readonly shapes = new Map<number, TracedShape>();
  value(shape: TracedShape): number {
    const id = this.next++;
    this.shapes.set(id, shape);
    return id;
  }
}

export class GraphSpecBuilder implements NnBuilder<number> {
  private readonly trace = new TraceBuilder();

  constructor(
    private readonly tape: GraphTape,
    /** Parameter-set prefix of this builder's parameters ('backbone' or 'adapter'). */
    private readonly scope: string,
  ) {}

  get params(): ParamSpec[] {
    return this.trace.params.map((p) => ({ ...p, name: `${this.scope}/${p.name}` }));
  }

  private s(id: number): TracedShape {
    const shape = this.tape.shapes.get(id);
    if (!shape) throw new Error(`graph value ${id} is unknown`);
    return shape;
  }

  private emit(shape: TracedShape, make: (out: number) => GraphOp): number {
    const out = this.tape.value(shape);
    this.tape.ops.push(make(out));
    return out;
  }

  private names(specs: ParamSpec[]): string[] {
    return specs.map((p) => `${this.scope}/${p.name}`);
  }

  param(name: string, shape: number[], init: ParamInit): number {
    return this.emit(this.trace.param(name, shape, init), (out) => ({ op: 'param', out, name: `${this.scope}/${name}` }));
  }

  conv2d(x: number, name: string, spec: Conv2dSpec): number {
    const [w, b] = this.names(conv2dParams(name, spec)) as [string, string];
    return this.emit(this.trace.conv2d(this.s(x), name, spec), (out) => ({ op: 'conv2d', out, x, w, b, kernel: spec.kernel, stride: spec.stride }));
  }

  groupNorm(x: number, name: string, channels: number, groups: number, eps: number): number {
    const [gamma, beta] = this.names(groupNormParams(name, channels)) as [string, string];
    return this.emit(this.trace.groupNorm(this.s(x), name, channels, groups), (out) => ({ op: 'groupNorm', out, x, gamma, beta, groups, eps }));
  }

  silu(x: number): number {
    return this.emit(this.s(x), (out) => ({ op: 'silu', out, x }));
  }

  add(a: number, b: number): number {
    return this.emit(this.trace.add(this.s(a), this.s(b)), (out) => ({ op: 'add', out, a, b }));
  }

  addPerChannel(x: number, v: number): number {
    return this.emit(this.trace.addPerChannel(this.s(x), this.s(v)), (out) => ({ op: 'addPerChannel', out, x, v }));
  }

  mulPerChannel(x: number, v: number): number {
    return this.emit(this.trace.mulPerChannel(this.s(x), this.s(v)), (out) => ({ op: 'mulPerChannel', out, x, v }));
  }

  scale(x: number, s: number): number {
    return this.emit(this.s(x), (out) => ({ op: 'scale', out, x, s }));
  }

  mixLevel(a: number, b: number, mu: number, level: number): number {
    return this.emit(this.trace.mixLevel(this.s(a), this.s(b), this.s(mu), level), (out) => ({ op: 'mixLevel', out, a, b, mu, level }));
  }

  avgPool2(x: number): number {
    return this.emit(this.trace.avgPool2(this.s(x)), (out) => ({ op: 'avgPool2', out, x }));
  }

  upsampleNearest2(x: number): number {
    return this.emit(this.trace.upsampleNearest2(this.s(x)), (out) => ({ op: 'upsampleNearest2', out, x }));
  }

  concatChannels(xs: number[]): number {
    return this.emit(this.trace.concatChannels(xs.map((x) => this.s(x))), (out) => ({ op: 'concatChannels', out, xs: [...xs] }));
  }

  dense(x: number, name: string, spec: DenseSpec): number {
    const [w, b] = this.names(denseParams(name, spec)) as [string, string];
    return this.emit(this.trace.dense(this.s(x), name, spec), (out) => ({ op: 'dense', out, x, w, b }));
  }

  timestepEmbedding(t: number, dim: number): number {
    return this.emit(this.trace.timestepEmbedding(this.s(t), dim), (out) => ({ op: 'timestepEmbedding', out, t, dim }));
  }

  attention(q: number, k: number, v: number, channels: number): number {
    return this.emit(this.trace.attention(this.s(q), this.s(k), this.s(v), channels), (out) => ({ op: 'attention', out, q, k, v, channels }));
  }
}

/**
 * The op list of the backbone (`opts` omitted) or of the fused denoiser. Shapes are checked at
 * batch 1 and an 8·2^(L−1) latent; the ops themselves do not depend on batch or latent size.
 */
export function graphSpec(cfg: NetConfig, opts?: AdapterOptions): GraphSpec {
  validateNetConfig(cfg);
  const tape = new GraphTape();
  const side = 8 * 2 ** (cfg.channelMult.length - 1);
  const z = tape.value({ dims: [1, cfg.latentChannels, side, side] });
  const t = tape.value({ dims: [1] });
  const backbone = new GraphSpecBuilder(tape, 'backbone');
  if (!opts) {
    const output = backboneNet(backbone, cfg, z, t);
    return { format: 'codi-graph', version: 1, kind: 'backbone', inputs: [{ name: 'z', id: z }, { name: 't', id: t }], output, params: backbone.params, ops: tape.ops };
  }
  const adapter = new GraphSpecBuilder(tape, 'adapter');
  const cond = tape.value({ dims: [1, opts.condChannels, side, side] });
  const inputs: GraphSpec['inputs'] = [
    { name: 'z', id: z },
    { name: 't', id: t },
    { name: 'cond', id: cond },
  ];
  let text: number | undefined;
  if (opts.textDim > 0) {
    text = tape.value({ dims: [1, opts.textDim] });
    inputs.push({ name: 'text', id: text });
  }
  const output = denoiserNet(backbone, adapter, cfg, opts, z, t, cond, text);
  return { format: 'codi-graph', version: 1, kind: 'denoiser', inputs, output, params: [...backbone.params, ...adapter.params], ops: tape.ops };
}
