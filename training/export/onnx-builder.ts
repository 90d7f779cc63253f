/**
 * NnBuilder that emits ONNX (opset 17, NCHW) nodes. Tensors are value names in an OnnxGraph;
 * weights come from a ParamRecord (HWIO conv kernels are transposed to OIHW here).
 * GroupNorm is lowered to Reshape → InstanceNormalization → Reshape → affine, which
 * onnxruntime's CPU provider runs as one fused normalisation kernel per group.
 */
import type { Conv2dSpec, DenseSpec, NnBuilder, ParamInit, ParamSpec } from '../../core/nn/builder.ts';
import { conv2dParams, denseParams, groupNormParams, sameShape, timestepFrequencies } from '../../core/nn/layers.ts';
import type { ParamRecord, ParamTensor } from '../../core/nn/params.ts';
import { AttrType, OnnxDataType } from './onnx-proto.ts';
import type { OnnxAttribute, OnnxInitializer, OnnxNode } from './onnx-proto.ts';

export const ONNX_OPSET = 17;

const enc = new TextEncoder();

export const attr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: AttrType.INT, i }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: AttrType.FLOAT, f }),
  ints: (name: string, ints: number[]): OnnxAttribute => ({ name, type: AttrType.INTS, ints }),
  str: (name: string, s: string): OnnxAttribute => ({ name, type: AttrType.STRING, s: enc.encode(s) }),
};

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  // Copy so the initializer owns little-endian bytes independent of the caller's buffer (x86/arm are LE).
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** Nodes and initializers of one graph under construction; names are unique within it. */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly initNames = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private counter = 0;

  node(opType: string, inputs: string[], attributes: OnnxAttribute[] = []): string {
    const name = `${opType}_${this.counter++}`;
    const out = `${name}_out`;
    this.nodes.push({ name, opType, inputs, outputs: [out], attributes });
    return out;
  }

  hasInitializer(name: string): boolean {
    return this.initNames.has(name);
  }

  initializer(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    if (this.initNames.has(name)) throw new Error(`initializer ${name} added twice`);
    this.initNames.add(name);
    const dataType = data instanceof Float32Array ? OnnxDataType.float : OnnxDataType.int64;
    this.initializers.push({ name, dataType, dims, raw: bytesOf(data) });
    return name;
  }

  constFloat(values: number[], dims: number[]): string {
    return this.constant('f', values, dims, () => Float32Array.from(values));
  }

  constInt64(values: number[], dims: number[]): string {
    return this.constant('i', values, dims, () => BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  private constant(kind: string, values: number[], dims: number[], make: () => Float32Array | BigInt64Array): string {
    const key = `${kind}|${dims.join(',')}|${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.initializer(`const_${this.constCache.size}`, dims, make());
    this.constCache.set(key, name);
    return name;
  }
}

/** HWIO → OIHW. */
function transposeHwioToOihw(p: ParamTensor): Float32Array {
  const [kh, kw, ci, co] = p.shape as [number, number, number, number];
  const out = new Float32Array(p.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = p.data[((y * kw + x) * ci + i) * co + o]!;
  return out;
}

/**
 * Emits the network into `graph`, reading weights from `params`; initializer names are
 * `prefix + parameter name` so two builders (backbone, adapter) can share one graph.
 */
export class OnnxBuilder implements NnBuilder<string> {
  constructor(
    private readonly graph: OnnxGraph,
    private readonly params: ParamRecord,
    private readonly prefix = '',
  ) {}

  private weight(spec: ParamSpec, layout: (p: ParamTensor) => { dims: number[]; data: Float32Array } = (p) => ({ dims: p.shape, data: p.data })): string {
    const p = this.params[spec.name];
    if (!p) throw new Error(`missing parameter ${spec.name}`);
    if (!sameShape(p.shape, spec.shape)) throw new Error(`parameter ${spec.name} has shape [${p.shape}], expected [${spec.shape}]`);
    const name = this.prefix + spec.name;
    if (this.graph.hasInitializer(name)) return name;
    const { dims, data } = layout(p);
    return this.graph.initializer(name, dims, data);
  }

  param(name: string, shape: number[], init: ParamInit): string {
    return this.weight({ name, shape, init });
  }

  conv2d(x: string, name: string, spec: Conv2dSpec): string {
    const [ws, bs] = conv2dParams(name, spec) as [ParamSpec, ParamSpec];
    const w = this.weight(ws, (p) => ({ dims: [spec.outC, spec.inC, spec.kernel, spec.kernel], data: transposeHwioToOihw(p) }));
    const b = this.weight(bs);
    const k = spec.kernel;
    const pad = spec.stride === 2 ? attr.str('auto_pad', 'SAME_UPPER') : attr.ints('pads', k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0]);
    return this.graph.node('Conv', [x, w, b], [attr.ints('kernel_shape', [k, k]), attr.ints('strides', [spec.stride, spec.stride]), pad]);
  }

  groupNorm(x: string, name: string, channels: number, groups: number, eps: number): string {
    const [gs, bs] = groupNormParams(name, channels) as [ParamSpec, ParamSpec];
    const perChannel = (p: ParamTensor) => ({ dims: [channels, 1, 1], data: p.data });
    const gamma = this.weight(gs, perChannel);
    const beta = this.weight(bs, perChannel);
    const g = this.graph;
    const grouped = g.node('Reshape', [x, g.constInt64([0, groups, -1], [3])]);
    const normed = g.node('InstanceNormalization', [grouped, g.constFloat(Array(groups).fill(1), [groups]), g.constFloat(Array(groups).fill(0), [groups])], [
      attr.float('epsilon', eps),
    ]);
    const back = g.node('Reshape', [normed, g.node('Shape', [x])]);
    return g.node('Add', [g.node('Mul', [back, gamma]), beta]);
  }

  silu(x: string): string {
    return this.graph.node('Mul', [x, this.graph.node('Sigmoid', [x])]);
  }

  add(a: string, b: string): string {
    return this.graph.node('Add', [a, b]);
  }

  addPerChannel(x: string, v: string): string {
    const g = this.graph;
    return g.node('Add', [x, g.node('Unsqueeze', [v, g.constInt64([2, 3], [2])])]);
  }

  mulPerChannel(x: string, v: string): string {
    const g = this.graph;
    return g.node('Mul', [x, g.node('Unsqueeze', [v, g.constInt64([2, 3], [2])])]);
  }

  scale(x: string, s: number): string {
    return this.graph.node('Mul', [x, this.graph.constFloat([s], [])]);
  }

  mixLevel(a: string, b: string, mu: string, level: number): string {
    const g = this.graph;
    const m = g.node('Gather', [mu, g.constInt64([level], [])], [attr.int('axis', 0)]);
    return g.node('Add', [a, g.node('Mul', [g.node('Sub', [b, a]), m])]);
  }

  avgPool2(x: string): string {
    return this.graph.node('AveragePool', [x], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]);
  }

  upsampleNearest2(x: string): string {
    const g = this.graph;
    // asymmetric + floor: output pixel (y, x) reads input (⌊y/2⌋, ⌊x/2⌋), as the TF.js broadcast copy does.
    return g.node('Resize', [x, '', g.constFloat([1, 1, 2, 2], [4])], [
      attr.str('mode', 'nearest'),
      attr.str('coordinate_transformation_mode', 'asymmetric'),
      attr.str('nearest_mode', 'floor'),
    ]);
  }

  concatChannels(xs: string[]): string {
    return this.graph.node('Concat', xs, [attr.int('axis', 1)]);
  }

  dense(x: string, name: string, spec: DenseSpec): string {
    const [ws, bs] = denseParams(name, spec) as [ParamSpec, ParamSpec];
    return this.graph.node('Gemm', [x, this.weight(ws), this.weight(bs)]);
  }

  timestepEmbedding(t: string, dim: number): string {
    const g = this.graph;
    const arg = g.node('Mul', [g.node('Unsqueeze', [t, g.constInt64([1], [1])]), g.constFloat([...timestepFrequencies(dim)], [1, dim / 2])]);
    return g.node('Concat', [g.node('Cos', [arg]), g.node('Sin', [arg])], [attr.int('axis', 1)]);
  }

  attention(q: string, k: string, v: string, channels: number): string {
    const g = this.graph;
    const flat = (y: string) => g.node('Reshape', [y, g.constInt64([0, 0, -1], [3])]); // [B, C, N]
    const qT = g.node('Transpose', [flat(q)], [attr.ints('perm', [0, 2, 1])]); // [B, N, C]
    const scores = g.node('Mul', [g.node('MatMul', [qT, flat(k)]), g.constFloat([1 / Math.sqrt(channels)], [])]);
    const weights = g.node('Softmax', [scores], [attr.int('axis', -1)]); // [B, Nq, Nk]
    const out = g.node('MatMul', [flat(v), g.node('Transpose', [weights], [attr.ints('perm', [0, 2, 1])])]); // [B, C, Nq]
    return g.node('Reshape', [out, g.node('Shape', [q])]);
  }
}
