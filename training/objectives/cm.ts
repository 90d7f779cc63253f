/**
 * Consistency distillation from a frozen conditional teacher: the CM-II baseline of
 * docs/method.md §9.3 [REC]. Student and EMA target start from the teacher; the ODE solver is
 * the teacher's own DDIM step t → s (predicted ε̂); the loss is the x-space consistency of the
 * boundary-scaled predictions, with no ground-truth term. Same timestep grid as CoDi.
 */
import * as tf from '@tensorflow/tfjs';
import type { CSkipForm } from '../../core/math/boundary.ts';
import { ddimUpdate, diffuse } from '../../core/math/parameterization.ts';
import type { Schedule } from '../../core/math/schedule.ts';
import type { Rng } from '../../core/rng.ts';
import { tfOps } from '../tf/tensor-ops-tf.ts';
import { scaledPrediction } from './codi.ts';
import { mapTimestepRuns } from './timestep-groups.ts';
import { distillTimesteps } from './timestep-sampling.ts';
import type { TSampling } from './timestep-sampling.ts';
import type { Denoiser, Objective, PreparedStep, TrainBatch } from './types.ts';

export interface CmOptions {
  schedule: Schedule;
  distillSteps?: number;
  tSampling?: TSampling;
  cSkipForm?: CSkipForm;
  online: Denoiser;
  target: Denoiser;
  /** The frozen conditional teacher that solves the PF-ODE. */
  teacher: Denoiser;
}

export function cmObjective(opts: CmOptions): Objective {
  const sched = opts.schedule;
  const N = opts.distillSteps ?? 50;
  const mode = opts.tSampling ?? 'perSample';
  const form = opts.cSkipForm ?? 'lcm';
  return {
    name: 'cm',
    prepare(batch: TrainBatch, rng: Rng): PreparedStep {
      const B = batch.x.shape[0];
      const { t: ts, s: ss } = distillTimesteps(rng, B, sched.T, N, mode);
      const eps = tfOps.randnLike(batch.x, rng);
      const tT = tf.tensor1d(ts, 'float32');
      const sT = tf.tensor1d(ss, 'float32');
      const cond = { cond: batch.cond, text: batch.text };
      const consts = tf.tidy(() => {
        const zT = mapTimestepRuns(ts, ss, [batch.x, eps], ([x, e], i) => diffuse(tfOps, x!, e!, sched.alphaAt(ts[i]!), sched.sigmaAt(ts[i]!)));
        const vTeacher = opts.teacher({ z: zT as tf.Tensor4D, t: tT, ...cond });
        const zS = mapTimestepRuns(ts, ss, [zT, vTeacher], ([z, v], i) => {
          const r = ddimUpdate(tfOps, z!, v!, ts[i]!, ss[i]!, sched);
          r.xHat.dispose();
          r.epsHat.dispose();
          return r.zS;
        });
        const vTarget = opts.target({ z: zS as tf.Tensor4D, t: sT, ...cond });
        const targetX = mapTimestepRuns(ss, undefined, [zS, vTarget], ([z, v], i) => scaledPrediction(sched, 'x', z!, v!, ss[i]!, form));
        return { zT, targetX };
      });
      eps.dispose();
      return {
        timesteps: ts,
        loss() {
          const v = opts.online({ z: consts.zT as tf.Tensor4D, t: tT, ...cond });
          const X = mapTimestepRuns(ts, undefined, [consts.zT, v], ([z, vv], i) => scaledPrediction(sched, 'x', z!, vv!, ts[i]!, form));
          const consistency = tf.mean<tf.Scalar>(tf.squaredDifference(X, consts.targetX));
          return { total: consistency, terms: { consistency } };
        },
        dispose() {
          tf.dispose([consts.zT, consts.targetX, tT, sT]);
        },
      };
    },
  };
}
