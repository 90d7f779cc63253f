/**
 * The CoDi few-step sampler (docs/method.md §7.1, [FC] pipeline `_generate`) and its
 * LCM-style re-noising variant (§7.2). The model is the distilled conditional denoiser.
 */
import type { TensorOps } from '../tensor/ops.ts';
import type { Schedule } from '../math/schedule.ts';
import type { CSkipForm } from '../math/boundary.ts';
import { boundaryScale, predictXEps } from '../math/parameterization.ts';
import type { Rng } from '../rng.ts';
import { codiTimesteps } from './timesteps.ts';
import type { DenoiseFn, SamplerOptions } from './common.ts';
import { resolveTimesteps, throwIfAborted } from './common.ts';

export interface CodiSamplerOptions extends SamplerOptions {
  /** N of the distillation grid (k = T/N); must be the training N. Default 50. */
  distillSteps?: number;
  /** LCM-style: re-noise with fresh ξ between steps instead of re-using ε̂. Needs `rng`. */
  renoise?: boolean;
  /** Source of ξ for `renoise`. */
  rng?: Rng;
  /** Boundary scalings applied to x̂; default 'lcm'. */
  boundary?: CSkipForm;
  /**
   * Deterministic variant only. 'denoised' (default) returns the boundary-scaled x̂ of the
   * last step. 'z0' reproduces the released code, whose last update lands on
   * z_0 = α_0 x̂ + σ_0 ε̂ (σ_0 = 0.029: in a pixel-space latent that is ~4 grey levels of
   * left-over noise, hence not the default; pitfall 16).
   */
  final?: 'denoised' | 'z0';
}

/**
 * Sample with the CoDi sampler. `noise` is z_T (caller-owned, not disposed); returns a new
 * tensor (the clean latent).
 */
export async function sampleCodi<T>(
  ops: TensorOps<T>,
  model: DenoiseFn<T>,
  noise: T,
  sched: Schedule,
  options: CodiSamplerOptions,
): Promise<T> {
  const ts = resolveTimesteps(options, () => codiTimesteps(options.distillSteps ?? 50, options.steps, sched.T));
  const { renoise = false, rng, boundary = 'lcm', final = 'denoised', prediction = 'v' } = options;
  if (renoise && !rng) throw new Error('sampleCodi: renoise needs an rng');
  const n = ts.length;
  let z = noise;
  try {
    for (const [j, t] of ts.entries()) {
      throwIfAborted(options.signal);
      const out = await model(z, t);
      // 1. x̂ = α_t z − σ_t v ; ε̂ = α_t v + σ_t z
      const p = predictXEps(ops, prediction, z, out, sched.alphaAt(t), sched.sigmaAt(t));
      ops.dispose(out);
      // 2. x̂ ← c_skip(t) z + c_out(t) x̂
      const xHat = boundaryScale(ops, z, p.xHat, t, boundary);
      ops.dispose(p.xHat);
      const last = j === n - 1;
      let next: T;
      if (last && (renoise || final === 'denoised')) {
        // 3a. final step returns the denoised x̂
        next = xHat;
      } else {
        // 3b. z_s = α_s x̂ + σ_s ε̂ (deterministic, s = 0 after the last grid point)
        //     or z_s = α_s x̂ + σ_s ξ with fresh ξ ~ N(0, I) (re-noising variant)
        const s = ts[j + 1] ?? 0;
        const xi = renoise ? ops.randnLike(z, rng as Rng) : null;
        next = ops.axpby(sched.alphaAt(s), xHat, sched.sigmaAt(s), xi ?? p.epsHat);
        if (xi) ops.dispose(xi);
        ops.dispose(xHat);
      }
      ops.dispose(p.epsHat);
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
