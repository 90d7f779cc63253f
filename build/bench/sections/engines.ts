/**
 * Bench section 3, the same network in different engines: one backbone (the packs' network shape, seeded
 * weights) exported with the project's ONNX exporter and run in onnxruntime at 1 and N
 * threads, and the TF.js forward of the same parameters (training/model/network.ts) on the
 * wasm and the stock cpu backends. Same input, same weights; GFLOP/s from countFlops.
 */
import * as tf from '@tensorflow/tfjs';
import { levelChannels } from '../../../core/nn/config.ts';
import { initParams } from '../../../core/nn/params.ts';
import { backboneParamSpecs, countFlops } from '../../../core/nn/trace.ts';
import { Rng } from '../../../core/rng.ts';
import { OrtRuntime } from '../../../electron/engine/ort.ts';
import type { OrtTensorIn } from '../../../electron/engine/ort.ts';
import { onnxBytes } from '../../../training/export/export-onnx.ts';
import { disposeParams, forwardBackbone, paramsFromRecord } from '../../../training/model/network.ts';
import { initTrainingBackend } from '../../../training/tf/backend.ts';
import type { Section } from '../section.ts';
import { round, timeIt } from '../stats.ts';
import type { Timing } from '../stats.ts';

export const engines: Section = async (ctx) => {
  const net = ctx.net;
  const side = ctx.quick ? 16 : 32;
  const rec = initParams(backboneParamSpecs(net), ctx.seed);
  const flops = countFlops(net, 'backbone', { batch: 1, height: side, width: side });
  const C = net.latentChannels;
  const z = new Rng(ctx.seed).fillGaussian(new Float32Array(C * side * side));
  const rows: Record<string, string | number>[] = [];
  const add = (engine: string, threads: number, t: Timing): number => {
    const g = flops / (t.medianMs * 1e6);
    rows.push({ engine, threads, medianMs: round(t.medianMs, 1), p90Ms: round(t.p90Ms, 1), gflops: round(g, 2) });
    return t.medianMs;
  };

  const ms: Record<string, number> = {};
  const bytes = onnxBytes(net, 'backbone', { backbone: rec });
  for (const threads of [...new Set([1, ctx.threads])]) {
    const rt = new OrtRuntime({ providers: ['cpu'], threads });
    try {
      const s = await rt.load('engines-backbone', bytes);
      const feeds: Record<string, OrtTensorIn> = { z: { data: z, dims: [1, C, side, side] }, t: { data: Float32Array.of(500), dims: [1] } };
      const chans = levelChannels(net);
      chans.forEach((c, l) => {
        const h = side >> l;
        feeds[`mix_${l}`] = { data: new Float32Array(c * h * h), dims: [1, c, h, h] };
      });
      feeds.mu = { data: new Float32Array(chans.length), dims: [chans.length] };
      ms[`ort${threads}`] = add('onnxruntime-node (CPU EP)', threads, await timeIt(() => s.run(feeds), { runs: ctx.runs }));
    } finally {
      await rt.releaseAll();
    }
  }

  // NHWC input for TF.js: the same values as the NCHW z above.
  const nhwc = new Float32Array(z.length);
  for (let c = 0; c < C; c++) for (let i = 0; i < side * side; i++) nhwc[i * C + c] = z[c * side * side + i] as number;
  for (const prefer of ['wasm', 'cpu'] as const) {
    const be = await initTrainingBackend({ prefer, log: () => {} });
    if (be.name !== prefer) {
      rows.push({ engine: `TF.js ${prefer}`, threads: 1, medianMs: 'n/a', p90Ms: 'n/a', gflops: `backend ${be.name} chosen instead` });
      continue;
    }
    const params = paramsFromRecord(rec);
    const zt = tf.tensor4d(nhwc, [1, side, side, C]);
    const tt = tf.tensor1d([500]);
    try {
      const once = async (): Promise<void> => {
        const v = forwardBackbone(net, params, zt, tt);
        await v.data();
        v.dispose();
      };
      ms[prefer] = add(`TF.js ${prefer} (${tf.version_core})`, 1, await timeIt(once, { runs: ctx.runs }));
    } finally {
      zt.dispose();
      tt.dispose();
      disposeParams(params);
    }
  }
  const ortBest = ms[`ort${ctx.threads}`] ?? ms.ort1!;
  const ratio = ms.wasm !== undefined ? ms.wasm / ortBest : NaN;
  return {
    title: '3. The same network in different engines',
    goal: {
      text: 'onnxruntime ≥ 5× TF.js wasm',
      met: Number.isFinite(ratio) ? ratio >= 5 : null,
      measured: Number.isFinite(ratio) ? `${ratio.toFixed(1)}× (ORT ${ctx.threads} threads vs wasm 1 thread); ORT 1 thread ${(ms.wasm! / ms.ort1!).toFixed(1)}×` : 'wasm backend unavailable',
    },
    rows,
    notes: [
      `Backbone of the packs' shape (base ${net.baseChannels}, ×[${net.channelMult}]), seeded weights, latent ${side}² (${side * 4}² px), ${(flops / 1e9).toFixed(2)} GFLOP per eval.`,
      'tfjs-backend-wasm runs one thread in Node (no multithreaded build); ratios to it compare a 1-thread engine with ORT at 1 and all threads.',
      ctx.quick ? '' : `cpu-backend speed-up of ORT: ${((ms.cpu ?? NaN) / ortBest).toFixed(0)}×.`,
    ].filter(Boolean),
  };
};
