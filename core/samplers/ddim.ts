/** DDIM (η = 0) for v-prediction (and ε/x) models (docs/method.md §9.1, diffusers DDIMScheduler.step). */
import type { TensorOps } from '../tensor/ops.ts';
import type { Schedule } from '../math/schedule.ts';
import { CLEAN_T } from '../math/schedule.ts';
import { predictXEps } from '../math/parameterization.ts';
import type { DdimSpacing } from './timesteps.ts';
import { ddimTimesteps } from './timesteps.ts';
import type { DenoiseFn, SamplerOptions } from './common.ts';
import { resolveTimesteps, throwIfAborted } from './common.ts';

export interface DdimSamplerOptions extends SamplerOptions {
  /** Default 'trailing'. */
  spacing?: DdimSpacing;
  /** Added to 'leading' timesteps (SD uses 1). Default 0. */
  stepsOffset?: number;
  /** After the last step use ᾱ = 1 (return x̂) rather than ᾱ_0. Default true. */
  setAlphaToOne?: boolean;
}

/**
 * Deterministic DDIM. Each step goes to the next grid point (diffusers steps to t − T/n, which
 * differs only when T/n is not an integer). `noise` is caller-owned; returns a new tensor.
 */
export async function sampleDdim<T>(
  ops: TensorOps<T>,
  model: DenoiseFn<T>,
  noise: T,
  sched: Schedule,
  options: DdimSamplerOptions,
): Promise<T> {
  const ts = resolveTimesteps(options, () =>
    ddimTimesteps(options.steps, options.spacing ?? 'trailing', sched.T, options.stepsOffset ?? 0),
  );
  const n = ts.length;
  const finalT = options.setAlphaToOne === false ? 0 : CLEAN_T;
  let z = noise;
  try {
    for (const [j, t] of ts.entries()) {
      throwIfAborted(options.signal);
      const prev = ts[j + 1] ?? finalT;
      const out = await model(z, t);
      // 1. x̂ = sqrt(ᾱ_t) z − sqrt(1−ᾱ_t) v̂ ; ε̂ = sqrt(ᾱ_t) v̂ + sqrt(1−ᾱ_t) z
      const { xHat, epsHat } = predictXEps(ops, options.prediction ?? 'v', z, out, sched.alphaAt(t), sched.sigmaAt(t));
      ops.dispose(out);
      // 2. z_prev = sqrt(ᾱ_prev) x̂ + sqrt(1−ᾱ_prev) ε̂
      const next = ops.axpby(sched.alphaAt(prev), xHat, sched.sigmaAt(prev), epsHat);
      ops.dispose(xHat);
      ops.dispose(epsHat);
      if (z !== noise) ops.dispose(z);
      z = next;
      options.onStep?.(j, n, t);
    }
  } catch (err) {
    // release what the sampler owns so an aborted/failed run leaks nothing (TF.js)
    if (z !== noise) ops.dispose(z);
    throw err;
  }
  return z;
}
