/**
 * v-prediction denoising loss (pretraining the backbone, fine-tuning the conditional teacher):
 * z_t = α_t x + σ_t ε, target v = α_t ε − σ_t x, L = mean((v̂(z_t, t, c) − v)²), with t ~ U{0..T−1}
 * per sample (the standard DDPM protocol).
 */
import * as tf from '@tensorflow/tfjs';
import { diffuse, vFromXEps } from '../../core/math/parameterization.ts';
import type { Schedule } from '../../core/math/schedule.ts';
import type { Rng } from '../../core/rng.ts';
import { tfOps } from '../tf/tensor-ops-tf.ts';
import { mapTimestepRuns } from './timestep-groups.ts';
import { vLossTimesteps } from './timestep-sampling.ts';
import type { Denoiser, Objective, PreparedStep, TrainBatch } from './types.ts';

export interface VLossOptions {
  schedule: Schedule;
  /** The network being trained (backbone alone for pretraining, backbone + adapter for the teacher). */
  model: Denoiser;
  /** Draw t from [tMin, tMax] inclusive; defaults to the whole schedule. */
  tMin?: number;
  tMax?: number;
}

/** Noisy input and v target for given x, ε and per-sample t (pure, exported for tests). */
export function noisyInputs(sched: Schedule, x: tf.Tensor, eps: tf.Tensor, ts: readonly number[]): { zT: tf.Tensor; vTarget: tf.Tensor } {
  const zT = mapTimestepRuns(ts, undefined, [x, eps], ([xs, es], i) =>
    diffuse(tfOps, xs!, es!, sched.alpha[ts[i]!]!, sched.sigma[ts[i]!]!),
  );
  const vTarget = mapTimestepRuns(ts, undefined, [x, eps], ([xs, es], i) =>
    vFromXEps(tfOps, xs!, es!, sched.alpha[ts[i]!]!, sched.sigma[ts[i]!]!),
  );
  return { zT, vTarget };
}

export function vLossObjective(opts: VLossOptions): Objective {
  const { schedule: sched, model } = opts;
  const tMin = opts.tMin ?? 0;
  const tMax = opts.tMax ?? sched.T - 1;
  return {
    name: 'v-loss',
    prepare(batch: TrainBatch, rng: Rng): PreparedStep {
      const B = batch.x.shape[0];
      const ts = vLossTimesteps(rng, B, tMin, tMax);
      const eps = tfOps.randnLike(batch.x, rng);
      const { zT, vTarget } = noisyInputs(sched, batch.x, eps, ts);
      eps.dispose();
      const tT = tf.tensor1d(ts, 'float32');
      return {
        timesteps: ts,
        loss() {
          const v = model({ z: zT as tf.Tensor4D, t: tT, cond: batch.cond, text: batch.text });
          const mse = tf.mean<tf.Scalar>(tf.squaredDifference(v, vTarget));
          return { total: mse, terms: { v: mse } };
        },
        dispose() {
          tf.dispose([zT, vTarget, tT]);
        },
      };
    },
  };
}
