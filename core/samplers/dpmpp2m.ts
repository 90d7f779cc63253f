/**
 * DPM-Solver++(2M): multistep second-order solver on the data prediction
 * (docs/method.md §9.2; Lu et al. 2022, `multistep_dpm_solver_second_update`, solver 'dpmsolver').
 * λ_t = log α_t − log σ_t; fractional model times use the schedule's log-α interpolation.
 */
import type { TensorOps } from '../tensor/ops.ts';
import type { Schedule } from '../math/schedule.ts';
import { CLEAN_T } from '../math/schedule.ts';
import { predictXEps } from '../math/parameterization.ts';
import { dpmTimeUniform } from './timesteps.ts';
import type { DenoiseFn, SamplerOptions } from './common.ts';
import { resolveTimesteps, throwIfAborted } from './common.ts';

export interface DpmSolverOptions extends SamplerOptions {
  /**
   * Where the last step lands. 'zero' (default, diffusers final_sigmas_type="zero"): σ = 0,
   * the output is the data prediction, and the last step is first order. 'grid': the last
   * grid point t = 0 (α_0, σ_0), as in the reference dpm_solver_pytorch.
   */
  finalSigma?: 'zero' | 'grid';
  /** Make the last step first order when steps < 10 (reference default true). */
  lowerOrderFinal?: boolean;
}

/** Sample with DPM-Solver++(2M). `noise` is caller-owned; returns a new tensor. */
export async function sampleDpmpp2m<T>(
  ops: TensorOps<T>,
  model: DenoiseFn<T>,
  noise: T,
  sched: Schedule,
  options: DpmSolverOptions,
): Promise<T> {
  const ts = resolveTimesteps(options, () => dpmTimeUniform(options.steps, sched.T).slice(0, options.steps));
  const n = ts.length;
  const finalT = (options.finalSigma ?? 'zero') === 'zero' ? CLEAN_T : 0;
  if (finalT === 0 && ts[n - 1] === 0) throw new RangeError("finalSigma 'grid' needs the last evaluation above t = 0");
  const lowerOrderFinal = options.lowerOrderFinal ?? true;
  const prediction = options.prediction ?? 'v';

  let z = noise;
  let prevX: T | null = null; // x̂ at the previous evaluation
  let prevLambda = 0;
  try {
    for (const [j, t] of ts.entries()) {
      throwIfAborted(options.signal);
      const s = ts[j + 1] ?? finalT;
      const aT = sched.alphaAt(t);
      const sT = sched.sigmaAt(t);
      const lT = sched.lambdaAt(t);
      const out = await model(z, t);
      // 1. data prediction x̂ = (z − σ ε̂)/α (for v-models via ε̂ = α v + σ z, i.e. x̂ = α z − σ v)
      const { xHat, epsHat } = predictXEps(ops, prediction, z, out, aT, sT);
      ops.dispose(out);
      ops.dispose(epsHat);

      const aS = sched.alphaAt(s);
      const sS = sched.sigmaAt(s);
      const firstOrder = prevX === null || s === CLEAN_T || (lowerOrderFinal && j === n - 1 && n < 10);
      let next: T;
      if (s === CLEAN_T) {
        // 2a. σ_s = 0: h = ∞, e^{−h} − 1 = −1, so z_s = x̂
        next = ops.clone(xHat);
      } else if (firstOrder) {
        // 2b. first order (= DDIM): h = λ_s − λ_t; z_s = (σ_s/σ_t) z − α_s (e^{−h} − 1) x̂
        const h = sched.lambdaAt(s) - lT;
        next = ops.axpby(sS / sT, z, -aS * Math.expm1(-h), xHat);
      } else {
        // 2c. second order: h = λ_s − λ_t, h0 = λ_t − λ_prev, r0 = h0/h, D1 = (x̂_t − x̂_prev)/r0,
        //     φ = expm1(−h); z_s = (σ_s/σ_t) z − α_s φ x̂_t − 0.5 α_s φ D1
        const h = sched.lambdaAt(s) - lT;
        const r0 = (lT - prevLambda) / h;
        const phi = Math.expm1(-h);
        const tmp = ops.axpby(sS / sT, z, -aS * phi * (1 + 0.5 / r0), xHat);
        next = ops.axpby(1, tmp, (0.5 * aS * phi) / r0, prevX as T);
        ops.dispose(tmp);
      }
      if (prevX !== null) ops.dispose(prevX);
      prevX = xHat;
      prevLambda = lT;
      if (z !== noise) ops.dispose(z);
      z = next;
      options.onStep?.(j, n, t);
    }
  } catch (err) {
    // release what the sampler owns so an aborted/failed run leaks nothing (TF.js)
    if (z !== noise) ops.dispose(z);
    if (prevX !== null) ops.dispose(prevX);
    throw err;
  }
  if (prevX !== null) ops.dispose(prevX);
  return z;
}
