/**
 * Writes backbone.onnx / adapter.onnx / denoiser.onnx from trained weights, with the graph
 * IO of CONVENTIONS.md: symbolic "batch", "height", "width" (level l maps use
 * "height/2^l", "width/2^l"), float32, NCHW.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetConfig } from '../../core/nn/config.ts';
import { levelChannels, levelCount, validateNetConfig } from '../../core/nn/config.ts';
import type { ParamRecord } from '../../core/nn/params.ts';
import type { GraphKind } from '../../core/nn/trace.ts';
import type { AdapterOptions } from '../../core/nn/unet.ts';
import { adapterNet, backboneNet, denoiserNet } from '../../core/nn/unet.ts';
import type { ParamSet } from '../model/tf-builder.ts';
import { paramsToRecord } from '../model/network.ts';
import { ONNX_OPSET, OnnxBuilder, OnnxGraph } from './onnx-builder.ts';
import { encodeModel, OnnxDataType } from './onnx-proto.ts';
import type { OnnxDim, OnnxModel, OnnxValueInfo } from './onnx-proto.ts';

/** Weights of the graphs to export, as plain records or live TF.js variables. */
export interface ExportWeights {
  backbone?: ParamRecord | ParamSet;
  adapter?: ParamRecord | ParamSet;
}

/** Condition widths an adapter record was created for (read from its cond.0 / text_proj shapes). */
export function adapterOptionsOfRecord(adapter: ParamRecord): AdapterOptions {
  const cond = adapter['cond.0.w'];
  if (!cond) throw new Error('adapter parameters lack cond.0.w');
  return { condChannels: cond.shape[2]!, textDim: adapter['text_proj.w']?.shape[0] ?? 0 };
}

function toRecord(p: ParamRecord | ParamSet | undefined): ParamRecord | undefined {
  return p instanceof Map ? paramsToRecord(p) : p;
}

const levelDims = (l: number): [OnnxDim, OnnxDim] => (l === 0 ? ['height', 'width'] : [`height/${2 ** l}`, `width/${2 ** l}`]);
const f32 = (name: string, shape: OnnxDim[]): OnnxValueInfo => ({ name, elemType: OnnxDataType.float, shape });

/** Build one graph in memory (no I/O). */
export function buildOnnxModel(cfg: NetConfig, kind: GraphKind, weights: ExportWeights): OnnxModel {
  validateNetConfig(cfg);
  const backbone = toRecord(weights.backbone);
  const adapter = toRecord(weights.adapter);
  if (kind !== 'adapter' && !backbone) throw new Error(`${kind}.onnx needs backbone weights`);
  if (kind !== 'backbone' && !adapter) throw new Error(`${kind}.onnx needs adapter weights`);

  const L = levelCount(cfg);
  const ch = levelChannels(cfg);
  const g = new OnnxGraph();
  const z = f32('z', ['batch', cfg.latentChannels, 'height', 'width']);
  const t = f32('t', ['batch']);
  const inputs: OnnxValueInfo[] = [z, t];
  const outputs: OnnxValueInfo[] = [];
  const publish = (value: string, info: OnnxValueInfo) => {
    // Identity gives each output its public name even when the value is an initializer (μ).
    g.nodes.push({ name: `out_${info.name}`, opType: 'Identity', inputs: [value], outputs: [info.name], attributes: [] });
    outputs.push(info);
  };
  const vInfo = f32('v', ['batch', cfg.latentChannels, 'height', 'width']);

  if (kind === 'backbone') {
    const mixIn = ch.map((c, l) => f32(`mix_${l}`, ['batch', c, ...levelDims(l)]));
    const mu = f32('mu', [L]);
    inputs.push(...mixIn, mu);
    const v = backboneNet(new OnnxBuilder(g, backbone!, 'backbone.'), cfg, z.name, t.name, { features: mixIn.map((m) => m.name), mu: mu.name });
    publish(v, vInfo);
  } else {
    const opts = adapterOptionsOfRecord(adapter!);
    const cond = f32('cond', ['batch', opts.condChannels, 'height', 'width']);
    inputs.push(cond);
    let text: string | undefined;
    if (opts.textDim > 0) {
      inputs.push(f32('text', ['batch', opts.textDim]));
      text = 'text';
    }
    if (kind === 'adapter') {
      const r = adapterNet(new OnnxBuilder(g, adapter!, 'adapter.'), cfg, opts, z.name, t.name, cond.name, text);
      r.features.forEach((f, l) => publish(f, f32(`feat_${l}`, ['batch', ch[l]!, ...levelDims(l)])));
      publish(r.mu, f32('mu', [L]));
      // a text adapter's offset to v, added by the engine to the backbone's output
      if (r.delta) publish(r.delta, f32('delta', ['batch', cfg.latentChannels, 'height', 'width']));
    } else {
      const v = denoiserNet(new OnnxBuilder(g, backbone!, 'backbone.'), new OnnxBuilder(g, adapter!, 'adapter.'), cfg, opts, z.name, t.name, cond.name, text);
      publish(v, vInfo);
    }
  }
  return {
    graphName: `codi_${kind}`,
    docString: `CoDi ${kind}; network config ${JSON.stringify(cfg)}`,
    opset: ONNX_OPSET,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs,
    outputs,
  };
}

/** ONNX protobuf bytes of one graph. */
export function onnxBytes(cfg: NetConfig, kind: GraphKind, weights: ExportWeights): Uint8Array {
  return encodeModel(buildOnnxModel(cfg, kind, weights));
}

/** Write a file so that readers see either the old or the complete new content. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export interface ExportedFile {
  /** File name inside `dir` (backbone.onnx, adapter.onnx, denoiser.onnx). */
  path: string;
  role: GraphKind;
  bytes: number;
}

/** Write the requested graphs into `dir` (created if missing) as `<kind>.onnx`. */
export async function exportOnnx(
  dir: string,
  cfg: NetConfig,
  weights: ExportWeights,
  graphs: GraphKind[],
): Promise<ExportedFile[]> {
  await mkdir(dir, { recursive: true });
  const rec: ExportWeights = { backbone: toRecord(weights.backbone), adapter: toRecord(weights.adapter) };
  const out: ExportedFile[] = [];
  for (const kind of graphs) {
    const bytes = onnxBytes(cfg, kind, rec);
    const path = `${kind}.onnx`;
    await writeFileAtomic(join(dir, path), bytes);
    out.push({ path, role: kind, bytes: bytes.byteLength });
  }
  return out;
}
