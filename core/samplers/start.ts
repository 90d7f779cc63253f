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
