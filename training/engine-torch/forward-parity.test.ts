/**
 * The PyTorch engine runs the network of core/nn through its op list (graph-spec.ts): the same
 * weights and inputs must give the TF.js forward within 1e-4 (max abs), for every net preset
 * and every task head (backbone; restore/custom, inpaint and depth conditions; edit with text).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { conditionChannels } from '../../core/conditions.ts';
import { graphSpec } from '../../core/nn/graph-spec.ts';
import { spatialMultiple } from '../../core/nn/config.ts';
import { traceNetwork } from '../../core/nn/trace.ts';
import { Rng } from '../../core/rng.ts';
import { INSTRUCTION_FEATURE_DIM } from '../../core/text/instruction-features.ts';
import { NET_PRESETS } from '../cli/train.ts';
import { disposeParams, forwardModel, paramsFromRecord } from '../model/network.ts';
import { initTrainingBackend } from '../tf/backend.ts';
import { denseRandomWeights, parityPython } from './parity-fixtures.ts';
import type { TensorMap } from './protocol.ts';
import { TorchWorker } from './worker.ts';

const python = parityPython();
const HEADS = [
  { head: 'backbone', opts: undefined },
  { head: 'restore', opts: { condChannels: conditionChannels('restore'), textDim: 0 } },
  { head: 'inpaint', opts: { condChannels: conditionChannels('inpaint'), textDim: 0 } },
  { head: 'depth', opts: { condChannels: conditionChannels('depth'), textDim: 0 } },
  { head: 'edit', opts: { condChannels: conditionChannels('edit'), textDim: INSTRUCTION_FEATURE_DIM } },
] as const;

describe.skipIf(python === null)('torch engine forward parity', () => {
  let worker: TorchWorker;
  beforeAll(async () => {
    await initTrainingBackend({ prefer: 'wasm', log: () => {} });
    worker = new TorchWorker(python!);
  });
  afterAll(async () => {
    await worker?.close();
  });

  it('records the same parameters as the tracer, with set prefixes', () => {
    const cfg = NET_PRESETS.tiny;
    const opts = { condChannels: 48, textDim: 8 };
    const spec = graphSpec(cfg, opts);
    const tr = traceNetwork(cfg, 'denoiser', opts);
    expect(spec.params.map((p) => p.name)).toEqual([...tr.backbone.map((p) => `backbone/${p.name}`), ...tr.adapter.map((p) => `adapter/${p.name}`)]);
  });

  for (const [netName, cfg] of Object.entries(NET_PRESETS)) {
    for (const { head, opts } of HEADS) {
      it(`${netName} net, ${head}: TF.js and torch agree within 1e-4`, async () => {
        const B = 2;
        const side = 2 * spatialMultiple(cfg);
        const rng = new Rng(`${netName}/${head}`);
        const w = denseRandomWeights(cfg, opts, 7);
        const z = rng.fillGaussian(new Float32Array(B * side * side * cfg.latentChannels));
        const ts = [37, 911];
        const cond = opts ? rng.fillGaussian(new Float32Array(B * side * side * opts.condChannels)) : undefined;
        const text = opts && opts.textDim > 0 ? rng.fillGaussian(new Float32Array(B * opts.textDim), 0, 0.3) : undefined;

        const bb = paramsFromRecord(w.backbone);
        const ad = w.adapter ? paramsFromRecord(w.adapter) : undefined;
        const vTf = tf.tidy(() =>
          forwardModel(cfg, ad ? { backbone: bb, adapter: ad } : { backbone: bb }, {
            z: tf.tensor4d(z, [B, side, side, cfg.latentChannels]),
            t: tf.tensor1d(ts),
            ...(cond ? { cond: tf.tensor4d(cond, [B, side, side, opts!.condChannels]) } : {}),
            ...(text ? { text: tf.tensor2d(text, [B, opts!.textDim]) } : {}),
          }),
        );
        const want = vTf.dataSync() as Float32Array;
        vTf.dispose();
        disposeParams(bb);
        if (ad) disposeParams(ad);

        const tensors: TensorMap = new Map();
        for (const [part, rec] of Object.entries(w)) for (const [k, p] of Object.entries(rec ?? {})) tensors.set(`param/${part}/${k}`, p);
        tensors.set('z', { shape: [B, side, side, cfg.latentChannels], data: z });
        if (cond) tensors.set('cond', { shape: [B, side, side, opts!.condChannels], data: cond });
        if (text) tensors.set('text', { shape: [B, opts!.textDim], data: text });
        const reply = await worker.request({ cmd: 'eval', graph: graphSpec(cfg, opts), t: ts }, tensors);
        const got = reply.tensors.get('v')!.data;
        expect(got.length).toBe(want.length);
        let maxAbs = 0;
        let scale = 0;
        for (let i = 0; i < got.length; i++) {
          maxAbs = Math.max(maxAbs, Math.abs(got[i]! - want[i]!));
          scale = Math.max(scale, Math.abs(want[i]!));
        }
        expect(scale).toBeGreaterThan(0.1);
        expect(maxAbs).toBeLessThan(1e-4);
      });
    }
  }
});
