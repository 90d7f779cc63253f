/**
 * The CoDi objective (paper Eqs. 12–15; docs/method.md §4.3), paper defaults with the
 * released-code behaviours as switches:
 *   i ~ U{1..N−1} shared per batch; t = i·k, s = (i−1)·k; ε ~ N(0, I); z_t = α_t x + σ_t ε
 *   one-step ODE (no grad):  v = Model_θ(z_t, t, c) (adapted) | Pretrained(z_t, t)
 *                            ẑ_s = α_s x̂ + σ_s ε (true ε, Eq. 14) | σ_s ε̂ (predicted)
 *   target (no grad, EMA):   E⁻ = c_skip(s) ẑ_s + c_out(s) ε̂_θ⁻(ẑ_s, s)   (or X⁻ for 'x')
 *   online (grad):           E  = c_skip(t) z_t + c_out(t) ε̂_θ(z_t, t);  X likewise with x̂
 *   L = mean((E − E⁻)²) + w_x · mean((X − x)²)
 * All α/σ/c_skip/c_out maths goes through core/math (ddimUpdate, conversions, boundaryScale)
 * with the TF.js TensorOps, i.e. the same code the engine samples with.
 */
import * as tf from '@tensorflow/tfjs';
import type { CSkipForm } from '../../core/math/boundary.ts';
import { boundaryScale, ddimUpdate, epsFromV, xFromV } from '../../core/math/parameterization.ts';
import { diffuse } from '../../core/math/parameterization.ts';
import type { Schedule } from '../../core/math/schedule.ts';
import type { Rng } from '../../core/rng.ts';
import { tfOps } from '../tf/tensor-ops-tf.ts';
import { mapTimestepRuns } from './timestep-groups.ts';
import { distillTimesteps } from './timestep-sampling.ts';
import type { TSampling } from './timestep-sampling.ts';
import type { Denoiser, Objective, PreparedStep, TrainBatch } from './types.ts';

/** The switches of docs/method.md §0; defaults are the paper's. */
export interface CodiSwitches {
  /**
   * Which network runs the one-step ODE: the adapted model being trained, or the frozen pretrained
   * one; 'none' is the paper's "without PF-ODE distillation" ablation: no ODE step at all, ẑ_s is
   * the forward process at s with the same ε (α_s·x + σ_s·ε), i.e. consistency training.
   */
  odeModel: 'adapted' | 'pretrained' | 'none';
  /** ε in ẑ_s: the true ε that made z_t (Eq. 14) or the model's ε̂. */
  odeEps: 'true' | 'predicted';
  /** Consistency on boundary-scaled ε̂ (Eq. 15) or on x̂. */
  consistencySpace: 'eps' | 'x';
  tSampling: TSampling;
  cSkipForm: CSkipForm;
}

export const DEFAULT_CODI_SWITCHES: CodiSwitches = {
  odeModel: 'adapted',
  odeEps: 'true',
  consistencySpace: 'eps',
  tSampling: 'sharedPerBatch',
  cSkipForm: 'lcm',
};

export interface CodiOptions {
  schedule: Schedule;
  /** Distillation grid size N (k = T/N); default 50. */
  distillSteps?: number;
  /** Weight of the latent-space ground-truth term d_x; default 1. */
  xWeight?: number;
  switches?: Partial<CodiSwitches>;
  /** θ: the adapted model being trained (gets gradients). */
  online: Denoiser;
  /** θ⁻: the EMA of the trainable set (constant target). */
  target: Denoiser;
  /** Frozen pretrained model without the condition; required when odeModel = 'pretrained'. */
  pretrained?: Denoiser;
}

/** α, σ lookup at an integer timestep (the tables are exact there). */
function coef(sched: Schedule, t: number): [number, number] {
  return [sched.alphaAt(t), sched.sigmaAt(t)];
}

/** Boundary-scaled x (X) or ε (E) prediction from a v output at integer t. */
export function scaledPrediction(sched: Schedule, space: 'x' | 'eps', z: tf.Tensor, v: tf.Tensor, t: number, form: CSkipForm): tf.Tensor {
  return tf.tidy(() => {
    const [a, s] = coef(sched, t);
    const pred = space === 'x' ? xFromV(tfOps, z, v, a, s) : epsFromV(tfOps, z, v, a, s);
    return boundaryScale(tfOps, z, pred, t, form);
  });
}

export function codiObjective(opts: CodiOptions): Objective {
  const sw: CodiSwitches = { ...DEFAULT_CODI_SWITCHES, ...opts.switches };
  const sched = opts.schedule;
  const N = opts.distillSteps ?? 50;
  const xWeight = opts.xWeight ?? 1;
  if (sw.odeModel === 'pretrained' && !opts.pretrained) throw new Error("CoDi odeModel 'pretrained' needs a pretrained model");

  return {
    name: 'codi',
    prepare(batch: TrainBatch, rng: Rng): PreparedStep {
      const B = batch.x.shape[0];
      const { t: ts, s: ss } = distillTimesteps(rng, B, sched.T, N, sw.tSampling);
      const eps = tfOps.randnLike(batch.x, rng);
      const tT = tf.tensor1d(ts, 'float32');
      const sT = tf.tensor1d(ss, 'float32');
      const cond = { cond: batch.cond, text: batch.text };
      // Constants of the step, computed before tf.variableGrads (no stop_gradient in TF.js).
      const consts = tf.tidy(() => {
        const zT = mapTimestepRuns(ts, ss, [batch.x, eps], ([x, e], i) => diffuse(tfOps, x!, e!, ...coef(sched, ts[i]!)));
        // 1. one-step ODE t → s (or, without PF-ODE distillation, the forward process at s)
        const zS =
          sw.odeModel === 'none'
            ? mapTimestepRuns(ss, undefined, [batch.x, eps], ([x, e], i) => diffuse(tfOps, x!, e!, ...coef(sched, ss[i]!)))
            : mapTimestepRuns(
                ts,
                ss,
                [
                  zT,
                  sw.odeModel === 'adapted' ? opts.online({ z: zT as tf.Tensor4D, t: tT, ...cond }) : opts.pretrained!({ z: zT as tf.Tensor4D, t: tT }),
                  eps,
                ],
                ([z, v, e], i) => {
                  const r = ddimUpdate(tfOps, z!, v!, ts[i]!, ss[i]!, sched, sw.odeEps === 'true' ? { eps: e! } : {});
                  r.xHat.dispose();
                  r.epsHat.dispose();
                  return r.zS;
                },
              );
        // 2. EMA target at s
        const vTarget = opts.target({ z: zS as tf.Tensor4D, t: sT, ...cond });
        const targetPred = mapTimestepRuns(ss, undefined, [zS, vTarget], ([z, v], i) =>
          scaledPrediction(sched, sw.consistencySpace, z!, v!, ss[i]!, sw.cSkipForm),
        );
        return { zT, targetPred };
      });
      eps.dispose();

      return {
        timesteps: ts,
        loss() {
          // 3. online prediction at t (the only gradient-carrying part)
          const v = opts.online({ z: consts.zT as tf.Tensor4D, t: tT, ...cond });
          const X = mapTimestepRuns(ts, undefined, [consts.zT, v], ([z, vv], i) => scaledPrediction(sched, 'x', z!, vv!, ts[i]!, sw.cSkipForm));
          const online =
            sw.consistencySpace === 'x'
              ? X
              : mapTimestepRuns(ts, undefined, [consts.zT, v], ([z, vv], i) => scaledPrediction(sched, 'eps', z!, vv!, ts[i]!, sw.cSkipForm));
          const consistency = tf.mean<tf.Scalar>(tf.squaredDifference(online, consts.targetPred));
          const dx = tf.mean<tf.Scalar>(tf.squaredDifference(X, batch.x));
          const total = consistency.add<tf.Scalar>(dx.mul(xWeight));
          return { total, terms: { consistency, dx } };
        },
        dispose() {
          tf.dispose([consts.zT, consts.targetPred, tT, sT]);
        },
      };
    },
  };
}
