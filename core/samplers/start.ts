/**
 * The start temperature τ of a pack (manifest `sampler.temperature`): sampling starts from
 * z_T = τ·ε with ε ~ N(0, I). τ = 1 is the diffusion prior; τ = 0 starts from its mean.
 *
 * Why τ < 1 exists: the scaled-linear schedule does not reach zero signal at t = T (α_T ≈ 0.068),
 * so during training the input at t = T still holds α_T·x. A network trained with a strong
 * ground-truth term learns to read that faint picture, and at inference, where z_T holds none,
 * it reads the draw's noise as if it were picture. A cooler start gives it less false evidence.
 * Each pack's τ is chosen on its training data's validation split, since a network may also
 * rely on its input having the prior's spread (measured: the inpaint pack's fills drift in
 * colour from a zero start).
 *
 * A one-step sample from τ = 0 is the same for every seed; more steps still differ by seed
 * through the re-noising sampler's fresh noise.
 */

/** τ of a manifest's sampler (absent = 1, every older pack). */
export function startTemperature(sampler: { temperature?: number | undefined }): number {
  return sampler.temperature ?? 1;
}

/** A manifest's sampler with start temperature `tau`, the field left out at 1 (the default). */
export function samplerAtTemperature<S extends object>(sampler: S, tau: number): Omit<S, 'temperature'> & { temperature?: number } {
  const { temperature: _old, ...rest } = sampler as S & { temperature?: unknown };
  return tau === 1 ? rest : { ...rest, temperature: tau };
}

/** Whether a sample of `steps` steps at start temperature `tau` is the same for every seed. */
export function startIsDeterministic(tau: number, steps: number): boolean {
  return tau === 0 && steps === 1;
}

/**
 * How many of `n` requested draws (seeds seed…seed+n−1) differ: a deterministic sample is one
 * draw, so its mean needs no second model call.
 */
export function distinctDraws(tau: number, steps: number, n: number): number {
  return startIsDeterministic(tau, steps) ? 1 : n;
}

/** z_T = τ·ε in place over a draw ε (τ = 1 leaves it as it is). */
export function coolStart(eps: Float32Array, tau: number): Float32Array {
  if (!(tau >= 0 && tau <= 1)) throw new RangeError(`start temperature must be in [0, 1], got ${tau}`);
  if (tau !== 1) for (let i = 0; i < eps.length; i++) eps[i] = tau * (eps[i] as number);
  return eps;
}

/**
 * The k-th (0-based) of the draws whose mean a tool takes: the seed offset of its noise and
 * whether its z_T is negated. Independent draws use seeds seed…seed+n−1. Antithetic draws come in
 * pairs (ε, −ε) from seeds seed, seed+1, …: a one-step sample is a smooth function of its start,
 * so the pair's mean cancels the odd-order part of the noise's effect, and on the inpaint pack's
 * validation crops a pair matched four independent draws at half the model calls.
 */
export function drawOf(k: number, antithetic: boolean): { seedOffset: number; negate: boolean } {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`draw index must be a non-negative integer, got ${k}`);
  return antithetic ? { seedOffset: Math.floor(k / 2), negate: k % 2 === 1 } : { seedOffset: k, negate: false };
}

/** A start field scaled by τ and, for the second of an antithetic pair, negated: a new array. */
export function scaledStart(eps: Float32Array, tau: number, negate: boolean): Float32Array {
  if (!(tau >= 0 && tau <= 1)) throw new RangeError(`start temperature must be in [0, 1], got ${tau}`);
  const s = negate ? -tau : tau;
  const out = new Float32Array(eps.length);
  for (let i = 0; i < eps.length; i++) out[i] = s * (eps[i] as number);
  return out;
}
