/**
 * Conversions between the model output (v, ε or x) and the signal/noise predictions, and the
 * DDIM (η = 0) transition, written once over {@link TensorOps} for training and inference
 * (docs/method.md §2; paper Eqs. 7–9). α, σ are the schedule's sqrt(ᾱ_t), sqrt(1 − ᾱ_t).
 * Every function returns new tensors; inputs are never disposed.
 */
import type { TensorOps } from '../tensor/ops.ts';
import type { Schedule } from './schedule.ts';
import { boundaryScalings } from './boundary.ts';
import type { CSkipForm } from './boundary.ts';

/** What the network predicts (manifest `prediction`; 'x' for data-prediction models). */
export type PredictionType = 'v' | 'epsilon' | 'x';

/** x̂ = α z − σ v. */
export function xFromV<T>(ops: TensorOps<T>, z: T, v: T, alpha: number, sigma: number): T {
  return ops.axpby(alpha, z, -sigma, v);
}

/** ε̂ = α v + σ z. */
export function epsFromV<T>(ops: TensorOps<T>, z: T, v: T, alpha: number, sigma: number): T {
  return ops.axpby(alpha, v, sigma, z);
}

/** v = α ε − σ x (the v-prediction training target). */
export function vFromXEps<T>(ops: TensorOps<T>, x: T, eps: T, alpha: number, sigma: number): T {
  return ops.axpby(alpha, eps, -sigma, x);
}

/** z_t = α x + σ ε (forward diffusion). */
export function diffuse<T>(ops: TensorOps<T>, x: T, eps: T, alpha: number, sigma: number): T {
  return ops.axpby(alpha, x, sigma, eps);
}

/** ε-model: x̂ = (z − σ ε̂)/α. */
export function xFromEps<T>(ops: TensorOps<T>, z: T, eps: T, alpha: number, sigma: number): T {
  return ops.axpby(1 / alpha, z, -sigma / alpha, eps);
}

/** x-model: ε̂ = (z − α x̂)/σ (undefined at σ = 0). */
export function epsFromX<T>(ops: TensorOps<T>, z: T, x: T, alpha: number, sigma: number): T {
  return ops.axpby(1 / sigma, z, -alpha / sigma, x);
}

/** ε-model output as v: v = α ε̂ − σ x̂ = (ε̂ − σ z)/α (using α² + σ² = 1). */
export function vFromEps<T>(ops: TensorOps<T>, z: T, eps: T, alpha: number, sigma: number): T {
  return ops.axpby(1 / alpha, eps, -sigma / alpha, z);
}

/** x-model output as v: v = α ε̂ − σ x̂ = (α z − x̂)/σ (using α² + σ² = 1). */
export function vFromX<T>(ops: TensorOps<T>, z: T, x: T, alpha: number, sigma: number): T {
  return ops.axpby(alpha / sigma, z, -1 / sigma, x);
}

/** Signal and noise predictions from any model output. Both are new tensors. */
export function predictXEps<T>(
  ops: TensorOps<T>,
  prediction: PredictionType,
  z: T,
  out: T,
  alpha: number,
  sigma: number,
): { xHat: T; epsHat: T } {
  switch (prediction) {
    case 'v':
      return { xHat: xFromV(ops, z, out, alpha, sigma), epsHat: epsFromV(ops, z, out, alpha, sigma) };
    case 'epsilon':
      return { xHat: xFromEps(ops, z, out, alpha, sigma), epsHat: ops.clone(out) };
    case 'x':
      return { xHat: ops.clone(out), epsHat: epsFromX(ops, z, out, alpha, sigma) };
  }
}

/** Boundary-scaled prediction F = c_skip(t)·z + c_out(t)·pred (paper Eq. 11; pred is x̂ or ε̂). */
export function boundaryScale<T>(ops: TensorOps<T>, z: T, pred: T, t: number, form: CSkipForm = 'lcm'): T {
  const { cSkip, cOut } = boundaryScalings(t, form);
  return ops.axpby(cSkip, z, cOut, pred);
}

export interface DdimUpdateOptions<T> {
  /** Use this (true) ε instead of ε̂ in z_s: CoDi's Eq. 14, ẑ_s = α_s x̂ + σ_s ε. */
  eps?: T;
  /** Apply c_skip(t)·z_t + c_out(t)·x̂ to x̂ before the update (the CoDi sampler, §7.1). Off by default. */
  boundary?: CSkipForm;
  /** What `v` is; default 'v'. */
  prediction?: PredictionType;
}

export interface DdimUpdateResult<T> {
  /** x̂ (boundary-scaled when `boundary` was given). */
  xHat: T;
  /** ε̂ predicted by the model (even when the true ε was used for z_s). */
  epsHat: T;
  /** z_s = α_s x̂ + σ_s ε̂ (or σ_s ε). */
  zS: T;
}

/**
 * One deterministic DDIM (η = 0) step t → s from the model output at (z_t, t).
 * s may be CLEAN_T (schedule.ts; α = 1, σ = 0) or any timestep the schedule accepts.
 */
export function ddimUpdate<T>(
  ops: TensorOps<T>,
  zT: T,
  v: T,
  t: number,
  s: number,
  sched: Schedule,
  options: DdimUpdateOptions<T> = {},
): DdimUpdateResult<T> {
  const aT = sched.alphaAt(t);
  const sT = sched.sigmaAt(t);
  // 1. x̂ = α_t z_t − σ_t v̂ ; ε̂ = α_t v̂ + σ_t z_t  (Eq. 8, or the ε/x-model equivalents)
  const pred = predictXEps(ops, options.prediction ?? 'v', zT, v, aT, sT);
  const epsHat = pred.epsHat;
  let xHat = pred.xHat;
  // 2. optional boundary condition on the signal: x̂ ← c_skip(t) z_t + c_out(t) x̂  (Eq. 11)
  if (options.boundary) {
    const scaled = boundaryScale(ops, zT, xHat, t, options.boundary);
    ops.dispose(xHat);
    xHat = scaled;
  }
  // 3. z_s = α_s x̂ + σ_s ε̂  (Eqs. 7, 9; Eq. 14 uses the true ε)
  const zS = ops.axpby(sched.alphaAt(s), xHat, sched.sigmaAt(s), options.eps ?? epsHat);
  return { xHat, epsHat, zS };
}
