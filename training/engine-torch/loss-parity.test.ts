/**
 * One step of each objective on the same weights, batch, timesteps and noise: the TF.js
 * objective and the PyTorch port must agree on the loss (relative difference ≤ 1e-4) and on the
 * gradient of every named parameter (cosine ≥ 0.9999). The torch side's t and ε come from
 * drawStep, so this also fails if the driver's draws drift from the objectives' prepare().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../core/math/schedule.ts';
import type { ParamRecord } from '../../core/nn/params.ts';
import { Rng } from '../../core/rng.ts';
import { NET_PRESETS } from '../cli/train.ts';
import { disposeParams, forwardModel, paramsFromRecord } from '../model/network.ts';
import type { ParamSet } from '../model/network.ts';
import { cmObjective } from '../objectives/cm.ts';
import { codiObjective } from '../objectives/codi.ts';
import { computeGradients } from '../objectives/grads.ts';
import type { Denoiser, Objective } from '../objectives/types.ts';
import { vLossObjective } from '../objectives/v-loss.ts';
import { initTrainingBackend } from '../tf/backend.ts';
import { resolveConfig } from '../trainer/trainer.ts';
import type { TrainConfig } from '../trainer/trainer.ts';
import { denseRandomWeights, parityPython } from './parity-fixtures.ts';
import type { TensorMap } from './protocol.ts';
import { drawStep, TorchSession } from './torch-trainer.ts';

const python = parityPython();
const net = NET_PRESETS.tiny;
const B = 4;
const side = 8;
const C = 48;
const opts = { condChannels: 48, textDim: 0 };

function jitter(rec: ParamRecord, seed: number, amount: number): ParamRecord {
  const rng = new Rng(seed);
  const out: ParamRecord = {};
  for (const [k, p] of Object.entries(rec)) out[k] = { shape: p.shape, data: p.data.map((v) => v + amount * rng.normal()) };
  return out;
}

const online = denseRandomWeights(net, opts, 3) as { backbone: ParamRecord; adapter: ParamRecord };
// The EMA target and the CM teacher differ from the online weights, so their roles cannot be swapped unnoticed.
const ema = { backbone: jitter(online.backbone, 11, 0.02), adapter: jitter(online.adapter, 12, 0.02) };
const teacher = { backbone: jitter(online.backbone, 13, 0.05), adapter: jitter(online.adapter, 14, 0.05) };

const cases: Array<{ name: string; config: Partial<TrainConfig> }> = [
  { name: 'codi (paper defaults)', config: { method: 'codi' } },
  { name: 'codi (x space, predicted ε, per-sample t, gr c_skip)', config: { method: 'codi', xWeight: 0.5, codi: { odeModel: 'adapted', odeEps: 'predicted', consistencySpace: 'x', tSampling: 'perSample', cSkipForm: 'gr' } } },
  { name: 'codi (no PF-ODE: forward-process ẑ_s)', config: { method: 'codi', codi: { odeModel: 'none', odeEps: 'true', consistencySpace: 'eps', tSampling: 'sharedPerBatch', cSkipForm: 'lcm' } } },
  { name: 'cm', config: { method: 'cm' } },
  { name: 'v-loss', config: { method: 'teacher' } },
];

describe.skipIf(python === null)('torch engine loss and gradient parity', () => {
  beforeAll(async () => {
    await initTrainingBackend({ prefer: 'wasm', log: () => {} });
  });
  const sessions: TorchSession[] = [];
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
  });

  for (const c of cases) {
    it(`${c.name}: same loss (rel ≤ 1e-4) and gradients (cosine ≥ 0.9999)`, async () => {
      const config = resolveConfig({ ...c.config, net, batchSize: B });
      const schedule = makeSchedule(config.schedule);
      const dataRng = new Rng(21);
      const x = dataRng.fillGaussian(new Float32Array(B * side * side * C), 0, 0.5);
      const cond = dataRng.fillGaussian(new Float32Array(B * side * side * opts.condChannels));
      const seed = 99;

      // TF.js: the objective as the Trainer builds it
      const sets = (w: { backbone: ParamRecord; adapter: ParamRecord }) => ({ backbone: paramsFromRecord(w.backbone), adapter: paramsFromRecord(w.adapter) });
      const on = sets(online);
      const em = sets(ema);
      const te = sets(teacher);
      const model = (s: { backbone: ParamSet; adapter: ParamSet }): Denoiser => (inp) => forwardModel(net, s, inp);
      const pre = (inp: Parameters<Denoiser>[0]) => forwardModel(net, { backbone: on.backbone }, inp);
      const objective: Objective =
        config.method === 'cm'
          ? cmObjective({ schedule, distillSteps: config.distillSteps, tSampling: config.cmTSampling, cSkipForm: config.codi.cSkipForm, online: model(on), target: model(em), teacher: model(te) })
          : config.method === 'codi'
            ? codiObjective({ schedule, distillSteps: config.distillSteps, xWeight: config.xWeight, switches: config.codi, online: model(on), target: model(em), pretrained: pre })
            : vLossObjective({ schedule, model: model(on) });
      const trainable = new Map([...[...on.backbone].map(([k, v]) => [`backbone/${k}`, v] as const), ...[...on.adapter].map(([k, v]) => [`adapter/${k}`, v] as const)]);
      const batch = { x: tf.tensor4d(x, [B, side, side, C]), cond: tf.tensor4d(cond, [B, side, side, opts.condChannels]) };
      const step = objective.prepare(batch, new Rng(seed));
      const g = computeGradients(step, trainable);
      const tfGrads = new Map([...g.grads].map(([k, t]) => [k, t.dataSync() as Float32Array] as const));
      step.dispose();
      tf.dispose([batch.x, batch.cond, ...g.grads.values()]);
      for (const s of [on, em, te]) {
        disposeParams(s.backbone);
        disposeParams(s.adapter);
      }

      // torch: the same weights, draws from drawStep
      const tensors: TensorMap = new Map();
      const put = (prefix: string, rec: ParamRecord) => {
        for (const [k, p] of Object.entries(rec)) tensors.set(`${prefix}${k}`, p);
      };
      put('model/backbone/', online.backbone);
      put('model/adapter/', online.adapter);
      put('ema/backbone/', ema.backbone);
      put('ema/adapter/', ema.adapter);
      const frozen = new Map<string, ParamRecord>();
      if (config.method === 'cm') {
        put('frozen/teacher/backbone/', teacher.backbone);
        put('frozen/teacher/adapter/', teacher.adapter);
        frozen.set('teacher/backbone', teacher.backbone).set('teacher/adapter', teacher.adapter);
      }
      const plan = { trainable: [...trainable.keys()], lrScale: new Map<string, number>(), frozen };
      const session = await TorchSession.start(config, schedule, plan, true, opts.condChannels, 0, tensors, { python: python!, threads: 2 });
      sessions.push(session);
      const d = drawStep(config, new Rng(seed), B, schedule.T, x.length);
      expect(d.ts).toEqual(step.timesteps);
      const inputs: TensorMap = new Map([
        ['x', { shape: [B, side, side, C], data: x }],
        ['eps', { shape: [B, side, side, C], data: d.eps }],
        ['cond', { shape: [B, side, side, opts.condChannels], data: cond }],
      ]);
      const reply = await session.workers[0]!.request({ cmd: 'grads', ts: d.ts, ss: d.ss }, inputs);
      const terms = reply.header.terms as Record<string, number>;

      expect(Math.abs(terms.total! - g.total) / Math.abs(g.total)).toBeLessThanOrEqual(1e-4);
      for (const [k, v] of Object.entries(g.terms)) expect(Math.abs(terms[k]! - v) / Math.max(Math.abs(v), 1e-12)).toBeLessThanOrEqual(1e-4);
      expect(reply.tensors.size).toBe(tfGrads.size);
      let worst = 1;
      for (const [name, want] of tfGrads) {
        const got = reply.tensors.get(name)!.data;
        let dot = 0;
        let na = 0;
        let nb = 0;
        for (let i = 0; i < want.length; i++) {
          dot += got[i]! * want[i]!;
          na += got[i]! * got[i]!;
          nb += want[i]! * want[i]!;
        }
        expect(nb, `${name} has a zero TF.js gradient`).toBeGreaterThan(0);
        worst = Math.min(worst, dot / Math.sqrt(na * nb));
      }
      expect(worst).toBeGreaterThanOrEqual(0.9999);
    });
  }
});
