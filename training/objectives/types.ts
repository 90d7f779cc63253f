/**
 * Shared shapes of the training objectives. Everything here is NHWC (TF.js's native layout);
 * conversion to the project's NCHW happens at the data and export edges.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../core/rng.ts';

/** Inputs of a denoiser: latent z [B,h,w,C], integer timesteps t [B] (float32), condition, text. */
export interface DenoiserInputs {
  z: tf.Tensor4D;
  t: tf.Tensor1D;
  cond?: tf.Tensor4D;
  text?: tf.Tensor2D;
}

/** A v-prediction network bound to one parameter set (online, EMA, frozen teacher…). */
export type Denoiser = (inputs: DenoiserInputs) => tf.Tensor4D;

/** One training batch: clean latents x [B,h,w,48] and the condition at latent resolution. */
export interface TrainBatch {
  x: tf.Tensor4D;
  cond?: tf.Tensor4D;
  text?: tf.Tensor2D;
}

/** Loss of one step: the scalar to differentiate and its named terms (for progress events). */
export interface LossValue {
  total: tf.Scalar;
  terms: Record<string, tf.Scalar>;
}

/**
 * One step of an objective, split so that nothing inside `loss` needs a stop-gradient:
 * everything that must be a constant (noisy inputs, ODE step, EMA target) is computed when
 * the step is prepared, BEFORE tf.variableGrads runs `loss` (docs/method.md §11).
 */
export interface PreparedStep {
  /** Runs the online (gradient-carrying) forward; called inside tf.variableGrads. */
  loss(): LossValue;
  /** The timesteps drawn for this step (one per sample). */
  readonly timesteps: readonly number[];
  /** Frees the constants made by `prepare`. */
  dispose(): void;
}

/** A training objective: draws its randomness from `rng` only, so steps are reproducible. */
export interface Objective {
  readonly name: string;
  prepare(batch: TrainBatch, rng: Rng): PreparedStep;
}
