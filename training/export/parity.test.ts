import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import type { NetConfig } from '../../core/nn/config.ts';
import { defaultNetConfig, levelChannels } from '../../core/nn/config.ts';
import { initParams, seededNormal } from '../../core/nn/params.ts';
import type { ParamRecord } from '../../core/nn/params.ts';
import { adapterParamSpecs, backboneParamSpecs } from '../../core/nn/trace.ts';
import type { AdapterOptions } from '../../core/nn/unet.ts';
import { forwardAdapter, forwardBackbone, forwardModel, paramsFromRecord, disposeParams } from '../model/network.ts';
import { onnxBytes } from './export-onnx.ts';
import { readModelSignature } from './onnx-proto.ts';

const tiny: NetConfig = {
  ...defaultNetConfig,
  baseChannels: 8,
  groups: 4,
  timeDim: 16,
  embDim: 32,
  condHidden: 8,
  attention: true,
};

/** Initial weights plus noise everywhere, so zero-initialised layers and μ are exercised too. */
function randomWeights(specs: ReturnType<typeof backboneParamSpecs>, seed: number): ParamRecord {
  const rec = initParams(specs, seed);
  const n = seededNormal(seed + 1000);
  for (const [name, p] of Object.entries(rec)) {
    for (let i = 0; i < p.data.length; i++) p.data[i] = name === 'mu' ? 0.2 + 0.15 * i : p.data[i]! + 0.1 * n();
  }
  return rec;
}

function randn(shape: number[], seed: number): Float32Array {
  const n = seededNormal(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => n());
}

const nhwc = (data: Float32Array, [b, c, h, w]: number[]) =>
  tf.tidy(() => tf.transpose<tf.Tensor4D>(tf.tensor4d(data, [b!, c!, h!, w!]), [0, 2, 3, 1]));
const nchwData = (x: tf.Tensor) => tf.tidy(() => tf.transpose(x, [0, 3, 1, 2])).dataSync() as Float32Array;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function runOrt(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>) {
  const session = await ort.InferenceSession.create(bytes);
  const input: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) input[k] = new ort.Tensor('float32', v.data, v.dims);
  const out = await session.run(input);
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

const TOL = 1e-4;

describe('TF.js ↔ onnxruntime parity (batch 2, latent 8×12)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const [B, H, W] = [2, 8, 12];
  const zShape = [B, tiny.latentChannels, H, W];
  const tData = Float32Array.from([17, 853]);
  const opts: AdapterOptions = { condChannels: 16, textDim: 8 };

  for (const cfg of [tiny, { ...tiny, attention: false, downsample: 'conv' as const, resBlocks: 2 }]) {
    const label = `${cfg.downsample}, ${cfg.resBlocks} block(s), attention ${cfg.attention}`;

    it(`backbone with μ-mix: ${label}`, async () => {
      const rec = randomWeights(backboneParamSpecs(cfg), 3);
      const ch = levelChannels(cfg);
      const mixShapes = ch.map((c, l) => [B, c, H / 2 ** l, W / 2 ** l]);
      const mixData = mixShapes.map((s, l) => randn(s, 40 + l));
      const mu = Float32Array.from([0.3, 0.6, 0.9]);
      const z = randn(zShape, 5);

      const params = paramsFromRecord(rec);
      const zt = nhwc(z, zShape);
      const tt = tf.tensor1d(tData);
      const feats = mixData.map((d, l) => nhwc(d, mixShapes[l]!));
      const mut = tf.tensor1d(mu);
      const v = forwardBackbone(cfg, params, zt, tt, { features: feats, mu: mut });
      const tfV = nchwData(v);
      tf.dispose([zt, tt, mut, v, ...feats]);
      disposeParams(params);

      const feeds: Record<string, { data: Float32Array; dims: number[] }> = { z: { data: z, dims: zShape }, t: { data: tData, dims: [B] }, mu: { data: mu, dims: [3] } };
      mixData.forEach((d, l) => (feeds[`mix_${l}`] = { data: d, dims: mixShapes[l]! }));
      const out = await runOrt(onnxBytes(cfg, 'backbone', { backbone: rec }), feeds);
      expect(maxAbsDiff(tfV, out.v!)).toBeLessThan(TOL);
      expect(Math.max(...tfV.map(Math.abs))).toBeGreaterThan(0.1); // a real signal, not zeros on both sides
    });

    it(`adapter and fused denoiser: ${label}`, async () => {
      const bRec = randomWeights(backboneParamSpecs(cfg), 7);
      const aRec = randomWeights(adapterParamSpecs(cfg, opts), 8);
      const z = randn(zShape, 9);
      const condShape = [B, opts.condChannels, H, W];
      const cond = randn(condShape, 10);
      const text = randn([B, opts.textDim], 11);

      const bb = paramsFromRecord(bRec);
      const ad = paramsFromRecord(aRec);
      const zt = nhwc(z, zShape);
      const ct = nhwc(cond, condShape);
      const tt = tf.tensor1d(tData);
      const xt = tf.tensor2d(text, [B, opts.textDim]);
      const a = forwardAdapter(cfg, ad, zt, tt, ct, xt);
      const tfFeats = a.features.map(nchwData);
      const tfMu = a.mu.dataSync() as Float32Array;
      expect(a.delta !== undefined).toBe(opts.textDim > 0);
      const tfDelta = a.delta ? nchwData(a.delta) : null;
      const v = forwardModel(cfg, { backbone: bb, adapter: ad }, { z: zt, t: tt, cond: ct, text: xt });
      const tfV = nchwData(v);
      tf.dispose([zt, ct, tt, xt, v, a.mu, ...a.features, ...(a.delta ? [a.delta] : [])]);
      disposeParams(bb);
      disposeParams(ad);

      const feeds = {
        z: { data: z, dims: zShape },
        t: { data: tData, dims: [B] },
        cond: { data: cond, dims: condShape },
        text: { data: text, dims: [B, opts.textDim] },
      };
      const aOut = await runOrt(onnxBytes(cfg, 'adapter', { adapter: aRec }), feeds);
      tfFeats.forEach((f, l) => expect(maxAbsDiff(f, aOut[`feat_${l}`]!)).toBeLessThan(TOL));
      expect(maxAbsDiff(tfMu, aOut.mu!)).toBe(0);
      if (tfDelta) expect(maxAbsDiff(tfDelta, aOut.delta!)).toBeLessThan(TOL);

      const dOut = await runOrt(onnxBytes(cfg, 'denoiser', { backbone: bRec, adapter: aRec }), feeds);
      expect(maxAbsDiff(tfV, dOut.v!)).toBeLessThan(TOL);
    });
  }

  it('writes the conventional IO names with symbolic dims', () => {
    const bRec = initParams(backboneParamSpecs(tiny), 1);
    const aRec = initParams(adapterParamSpecs(tiny, { condChannels: 48, textDim: 0 }), 2);
    const sig = (kind: 'backbone' | 'adapter' | 'denoiser') =>
      readModelSignature(onnxBytes(tiny, kind, { backbone: bRec, adapter: aRec }));
    const bb = sig('backbone');
    expect(bb.opset).toBe(17);
    expect(bb.inputs.map((i) => i.name)).toEqual(['z', 't', 'mix_0', 'mix_1', 'mix_2', 'mu']);
    expect(bb.inputs[0]!.shape).toEqual(['batch', 48, 'height', 'width']);
    expect(bb.inputs[3]!.shape).toEqual(['batch', 16, 'height/2', 'width/2']);
    expect(bb.inputs[5]!.shape).toEqual([3]);
    expect(bb.outputs.map((o) => o.name)).toEqual(['v']);
    const ad = sig('adapter');
    expect(ad.inputs.map((i) => i.name)).toEqual(['z', 't', 'cond']);
    expect(ad.outputs.map((o) => o.name)).toEqual(['feat_0', 'feat_1', 'feat_2', 'mu']);
    const dn = sig('denoiser');
    expect(dn.inputs.map((i) => i.name)).toEqual(['z', 't', 'cond']);
    expect(dn.outputs.map((o) => [o.name, o.shape])).toEqual([['v', ['batch', 48, 'height', 'width']]]);
  });
});
