/**
 * TF.js entry points to the CoDi network defined in core/nn (backbone, adapter, fused model),
 * plus parameter creation and (de)serialisation. Tensors are NHWC here; the ONNX export is NCHW.
 *
 * All forward functions run inside tf.tidy and return one new tensor (or a few), so callers
 * only dispose what they receive. They work inside tf.variableGrads.
 */
import * as tf from '@tensorflow/tfjs';
import type { NetConfig } from '../../core/nn/config.ts';
import { levelCount, spatialMultiple } from '../../core/nn/config.ts';
import { initParams, shapeSize } from '../../core/nn/params.ts';
import type { ParamRecord } from '../../core/nn/params.ts';
import { adapterParamSpecs, backboneParamSpecs } from '../../core/nn/trace.ts';
import type { AdapterOptions } from '../../core/nn/unet.ts';
import { adapterNet, backboneNet } from '../../core/nn/unet.ts';
import { TfBuilder } from './tf-builder.ts';
import type { ParamSet } from './tf-builder.ts';

export type { ParamSet } from './tf-builder.ts';
export type { ParamRecord, ParamTensor } from '../../core/nn/params.ts';
export type { AdapterOptions } from '../../core/nn/unet.ts';
export { countFlops } from '../../core/nn/trace.ts';

/** Adapter output in NHWC: one feature map per level ([B, h/2^l, w/2^l, C_l]), μ [L], and a text adapter's v-offset. */
export interface AdapterOutput {
  features: tf.Tensor4D[];
  mu: tf.Tensor1D;
  delta?: tf.Tensor4D;
}

/** Parameters of a full model; without `adapter` it is the unconditional backbone. */
export interface ModelParams {
  backbone: ParamSet;
  adapter?: ParamSet;
}

/** Inputs of a full-model forward (NHWC, t as float DDPM indices). */
export interface ModelInputs {
  z: tf.Tensor4D;
  t: tf.Tensor1D;
  cond?: tf.Tensor4D;
  text?: tf.Tensor2D;
}

/** tf.Variables from plain data (trainable). */
export function paramsFromRecord(rec: ParamRecord): ParamSet {
  const set: ParamSet = new Map();
  for (const [name, p] of Object.entries(rec)) {
    if (p.data.length !== shapeSize(p.shape)) throw new Error(`parameter ${name}: ${p.data.length} values for shape [${p.shape}]`);
    set.set(name, tf.variable(tf.tensor(p.data, p.shape, 'float32'), true));
  }
  return set;
}

/** Plain-data copy of a ParamSet (for checkpoints and the ONNX exporter). */
export function paramsToRecord(set: ParamSet): ParamRecord {
  const rec: ParamRecord = {};
  for (const [name, v] of set) rec[name] = { shape: [...v.shape], data: new Float32Array(v.dataSync()) };
  return rec;
}

/** Free the variables of a ParamSet. */
export function disposeParams(set: ParamSet): void {
  for (const v of set.values()) v.dispose();
}

/** Total number of scalars in a ParamSet. */
export function paramCount(set: ParamSet): number {
  let n = 0;
  for (const v of set.values()) n += v.size;
  return n;
}

/** Fresh backbone weights (seeded, deterministic). */
export function createBackbone(cfg: NetConfig, seed: number): ParamSet {
  return paramsFromRecord(initParams(backboneParamSpecs(cfg), seed));
}

/**
 * Fresh adapter: every parameter it shares with the backbone (conv_in, time MLP, encoder
 * levels) is a copy of the backbone's; cond embedding ends in zeros, text projection and μ
 * are zero, so the adapted model equals the backbone at step 0.
 */
export function createAdapter(cfg: NetConfig, backbone: ParamSet, opts: AdapterOptions, seed: number): ParamSet {
  const rec = initParams(adapterParamSpecs(cfg, opts), seed);
  const set: ParamSet = new Map();
  for (const [name, p] of Object.entries(rec)) {
    const src = backbone.get(name);
    set.set(name, src ? tf.variable(src.clone(), true) : tf.variable(tf.tensor(p.data, p.shape, 'float32'), true));
  }
  return set;
}

/**
 * An adapter's weights from a pack or teacher, plus fresh values for parameters the network
 * gained since it was trained (e.g. the text FiLM, zero-initialised so the model is unchanged).
 * A parameter whose shape differs is an error: the weights belong to another network.
 */
export function completeAdapterRecord(cfg: NetConfig, rec: ParamRecord, opts: AdapterOptions, seed: number): ParamRecord {
  const specs = adapterParamSpecs(cfg, opts);
  const fresh = initParams(specs, seed);
  const out: ParamRecord = { ...rec };
  for (const spec of specs) {
    const have = rec[spec.name];
    if (!have) {
      out[spec.name] = fresh[spec.name]!;
    } else if (have.shape.join(',') !== spec.shape.join(',')) {
      throw new Error(`adapter parameter ${spec.name} has shape [${have.shape}], this network expects [${spec.shape}]`);
    }
  }
  return out;
}

function checkLatent(cfg: NetConfig, z: tf.Tensor4D, t: tf.Tensor1D): void {
  const [n, h, w, c] = z.shape;
  const m = spatialMultiple(cfg);
  if (c !== cfg.latentChannels) throw new Error(`z has ${c} channels, the network expects ${cfg.latentChannels}`);
  if (h % m !== 0 || w % m !== 0) throw new Error(`latent size ${h}×${w} must be a multiple of ${m}`);
  if (t.shape[0] !== n) throw new Error(`t has ${t.shape[0]} entries for a batch of ${n}`);
}

/** Backbone v-prediction: z [B,h,w,48], t [B] → v [B,h,w,48]; `mix` mixes adapter features in. */
export function forwardBackbone(
  cfg: NetConfig,
  backbone: ParamSet,
  z: tf.Tensor4D,
  t: tf.Tensor1D,
  mix?: AdapterOutput,
): tf.Tensor4D {
  checkLatent(cfg, z, t);
  if (mix && mix.features.length !== levelCount(cfg)) throw new Error(`mix needs ${levelCount(cfg)} feature maps`);
  return tf.tidy(() => backboneNet(new TfBuilder(backbone), cfg, z, t, mix) as tf.Tensor4D);
}

/** Condition widths an adapter ParamSet was created for. */
export function adapterOptions(adapter: ParamSet): AdapterOptions {
  const cond = adapter.get('cond.0.w');
  if (!cond) throw new Error('adapter parameters lack cond.0.w');
  const text = adapter.get('text_proj.w');
  return { condChannels: cond.shape[2]!, textDim: text ? text.shape[0] : 0 };
}

/** Adapter h_η: per-level features (NHWC) and μ. `text` is required iff the adapter has a text projection. */
export function forwardAdapter(
  cfg: NetConfig,
  adapter: ParamSet,
  z: tf.Tensor4D,
  t: tf.Tensor1D,
  cond: tf.Tensor4D,
  text?: tf.Tensor2D,
): AdapterOutput {
  checkLatent(cfg, z, t);
  const opts = adapterOptions(adapter);
  if (cond.shape[3] !== opts.condChannels) throw new Error(`cond has ${cond.shape[3]} channels, adapter expects ${opts.condChannels}`);
  if (opts.textDim > 0 && text?.shape[1] !== opts.textDim) throw new Error(`adapter expects text [B, ${opts.textDim}]`);
  const L = levelCount(cfg);
  const out = tf.tidy(() => {
    const r = adapterNet(new TfBuilder(adapter), cfg, opts, z, t, cond, opts.textDim > 0 ? text : undefined);
    // μ is the variable itself; hand out a copy so callers may dispose what they get.
    return [...r.features, tf.clone(r.mu), ...(r.delta ? [r.delta] : [])];
  });
  const result: AdapterOutput = { features: out.slice(0, L) as tf.Tensor4D[], mu: out[L] as tf.Tensor1D };
  if (out.length > L + 1) result.delta = out[L + 1] as tf.Tensor4D;
  return result;
}

/** Full model: backbone alone, or backbone with the adapter mixed in (needs `cond`). */
export function forwardModel(cfg: NetConfig, params: ModelParams, inputs: ModelInputs): tf.Tensor4D {
  const { z, t } = inputs;
  if (!params.adapter) return forwardBackbone(cfg, params.backbone, z, t);
  const adapter = params.adapter;
  if (!inputs.cond) throw new Error('a model with an adapter needs a cond input');
  const cond = inputs.cond;
  return tf.tidy(() => {
    const mix = forwardAdapter(cfg, adapter, z, t, cond, inputs.text);
    const v = forwardBackbone(cfg, params.backbone, z, t, mix);
    return mix.delta ? tf.add(v, mix.delta) : v;
  });
}
