/**
 * The restoration learnability probe (see restore-learnability.ts, its command line): a plain conv
 * stack trained with MSE directly on a restore data set's ground truth, and the report comparing
 * the degraded data set with its clean twin.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../core/rng.ts';
import { readDataset } from '../data/dataset-reader.ts';
import { describeBackend, initTrainingBackend } from '../tf/backend.ts';
import { packNhwc } from '../trainer/batch-sampler.ts';
import { psnrPerImage } from '../trainer/sampling-eval.ts';

export interface Probe {
  steps: number;
  evalEvery: number;
  width: number;
  layers: number;
  batch: number;
  lr: number;
  k: number;
  maxTrain: number;
  maxVal: number;
  seed: number;
}


export interface CurvePoint {
  step: number;
  seconds: number;
  valPsnr: number;
}

export interface LaneResult {
  data: string;
  trainItems: number;
  valItems: number;
  bicubicPsnr: number;
  curve: CurvePoint[];
  backend: string;
}

const mean = (a: number[]): number => a.reduce((p, q) => p + q, 0) / a.length;

/** Train the probe on one data set and record its validation curve. */
export async function runLane(dataDir: string, p: Probe): Promise<LaneResult> {
  await initTrainingBackend({ prefer: 'wasm', log: () => {} });
  const ds = await readDataset(dataDir, { maxItems: { train: p.maxTrain, val: p.maxVal } });
  const geo = ds.geometry;
  const stack = (items: typeof ds.train) => {
    const B = items.length;
    const x = tf.tensor4d(packNhwc(items.map((i) => i.x), geo.channels, geo.h, geo.w), [B, geo.h, geo.w, geo.channels]);
    const cond = tf.tensor4d(packNhwc(items.map((i) => i.cond as Float32Array), geo.condChannels, geo.h, geo.w), [B, geo.h, geo.w, geo.condChannels]);
    // the condition's first image channels are the bicubic upsample (core/conditions.ts)
    const base = tf.slice(cond, [0, 0, 0, 0], [B, geo.h, geo.w, geo.channels]);
    return { x, cond, base };
  };
  const train = stack(ds.train);
  const val = stack(ds.val);

  const weights: tf.Variable[] = [];
  let inC = geo.condChannels;
  for (let l = 0; l < p.layers; l++) {
    const last = l === p.layers - 1;
    const outC = last ? geo.channels : p.width;
    // He init; the last layer starts small so the probe starts near "output = bicubic"
    const std = (last ? 0.1 : 1) * Math.sqrt(2 / (9 * inC));
    weights.push(tf.variable(tf.randomNormal([3, 3, inC, outC], 0, std, 'float32', p.seed + l)));
    weights.push(tf.variable(tf.zeros([outC])));
    inC = outC;
  }
  const net = (c: tf.Tensor4D): tf.Tensor4D => {
    let h = c;
    for (let l = 0; l < p.layers; l++) {
      h = tf.add(tf.conv2d(h, weights[2 * l] as tf.Tensor4D, 1, 'same'), weights[2 * l + 1] as tf.Tensor1D);
      if (l < p.layers - 1) h = tf.relu(h);
    }
    return h;
  };
  const valPsnr = (): number => {
    const parts: number[] = [];
    for (let i = 0; i < ds.val.length; i += 32) {
      const n = Math.min(32, ds.val.length - i);
      tf.tidy(() => {
        const c = tf.slice(val.cond, [i, 0, 0, 0], [n, -1, -1, -1]);
        const b = tf.slice(val.base, [i, 0, 0, 0], [n, -1, -1, -1]);
        const x = tf.slice(val.x, [i, 0, 0, 0], [n, -1, -1, -1]);
        parts.push(...psnrPerImage(tf.add(b, tf.div(net(c), p.k)), x));
      });
    }
    return mean(parts);
  };

  const bicubicPsnr = mean(psnrPerImage(val.base, val.x));
  const opt = tf.train.adam(p.lr);
  const rng = new Rng(p.seed);
  const curve: CurvePoint[] = [{ step: 0, seconds: 0, valPsnr: valPsnr() }];
  const t0 = Date.now();
  for (let step = 1; step <= p.steps; step++) {
    const idx = tf.tensor1d(Array.from({ length: p.batch }, () => rng.int(0, ds.train.length)), 'int32');
    const loss = opt.minimize(
      () => {
        const c = tf.gather<tf.Tensor4D>(train.cond, idx);
        const target = tf.mul(tf.sub(tf.gather(train.x, idx), tf.gather(train.base, idx)), p.k);
        return tf.mean<tf.Scalar>(tf.square(tf.sub(net(c), target)));
      },
      false,
      weights,
    );
    loss?.dispose();
    idx.dispose();
    if (step % p.evalEvery === 0 || step === p.steps) {
      const point = { step, seconds: (Date.now() - t0) / 1000, valPsnr: valPsnr() };
      curve.push(point);
      console.error(`${path.basename(dataDir)} step ${step}: val ${point.valPsnr.toFixed(3)} dB (bicubic ${bicubicPsnr.toFixed(3)}), ${point.seconds.toFixed(0)} s`);
    }
  }
  // a lane can run in-process (the test runs two): free what it held
  tf.dispose([train.x, train.cond, train.base, val.x, val.cond, val.base, ...weights]);
  opt.dispose();
  return { data: dataDir, trainItems: ds.train.length, valItems: ds.val.length, bicubicPsnr, curve, backend: describeBackend() };
}

export function report(p: Probe, degraded: LaneResult, clean: LaneResult): string {
  const gain = (r: LaneResult, pt: CurvePoint) => pt.valPsnr - r.bicubicPsnr;
  const best = (r: LaneResult) => r.curve.reduce((a, b) => (b.valPsnr > a.valPsnr ? b : a));
  const rows = degraded.curve.map((d, i) => {
    const c = clean.curve[i];
    const fmt = (r: LaneResult, pt: CurvePoint | undefined) => (pt ? `${pt.valPsnr.toFixed(2)} (${gain(r, pt) >= 0 ? '+' : ''}${gain(r, pt).toFixed(2)})` : '—');
    return `| ${d.step} | ${fmt(degraded, d)} | ${fmt(clean, c)} | ${d.seconds.toFixed(0)} |`;
  });
  const bd = best(degraded), bc = best(clean);
  return [
    `# Restoration learnability probe ${new Date().toISOString().slice(0, 10)}`,
    '',
    'A plain conv stack trained with MSE directly on the ground truth (no diffusion), on the restore data set and on its',
    'clean twin (same targets, inputs = bicubic ×scale downscale). Produced by `training/bench/restore-learnability.ts`.',
    '',
    `- Probe: ${p.layers} layers of 3×3 conv, width ${p.width}, ReLU, predicting ${p.k}·(x − bicubic) in the packs' latent layout;`,
    `  Adam lr ${p.lr}, batch ${p.batch}, ${p.steps} steps, seed ${p.seed}; backend ${degraded.backend}.`,
    `- Data: \`${degraded.data}\` (${degraded.trainItems} train / ${degraded.valItems} val crops; val = held-out photos of the training packages,`,
    '  never the evaluation packages) and its clean twin.',
    `- Bicubic on the val crops: degraded ${degraded.bicubicPsnr.toFixed(2)} dB, clean ${clean.bicubicPsnr.toFixed(2)} dB.`,
    '',
    '| step | degraded: val PSNR dB (vs bicubic) | clean twin: val PSNR dB (vs bicubic) | s (degraded lane) |',
    '|---:|---:|---:|---:|',
    ...rows,
    '',
    `Best: degraded ${bd.valPsnr.toFixed(2)} dB at step ${bd.step} (${gain(degraded, bd) >= 0 ? '+' : ''}${gain(degraded, bd).toFixed(2)} dB over bicubic); ` +
      `clean twin ${bc.valPsnr.toFixed(2)} dB at step ${bc.step} (${gain(clean, bc) >= 0 ? '+' : ''}${gain(clean, bc).toFixed(2)} dB).`,
    '',
  ].join('\n');
}
