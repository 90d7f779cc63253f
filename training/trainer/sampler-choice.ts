/**
 * A distilled pack's default sampler, chosen from validation PSNR (build/choose-default-steps.ts).
 * docs/method.md §7.2: the released CoDi sampler re-uses ε̂ (deterministic); the consistency-model
 * sampler re-noises with fresh ξ between steps; "offer both and evaluate". One step is the same
 * for both (the last step returns x̂), so they differ at 2 and 4 steps only.
 */
export type DistilledKind = 'codi' | 'codi-renoise';

/** Validation PSNR (dB) of one pack: 1, 2 and 4 steps deterministic, 2 and 4 re-noising. */
export interface SamplerPsnr {
  codi: Record<1 | 2 | 4, number>;
  renoise: Record<2 | 4, number>;
}

export interface SamplerChoice {
  kind: DistilledKind;
  /** The best step count (1, 2 or 4) with that kind. */
  steps: 1 | 2 | 4;
  /** PSNR per step count with the chosen kind. */
  psnr: Record<1 | 2 | 4, number>;
}

/**
 * The kind that measured better over 2 and 4 steps together (the step counts where they differ),
 * ties to the released deterministic sampler; then the best step count with that kind, ties to fewer steps.
 */
export function chooseSampler(m: SamplerPsnr): SamplerChoice {
  for (const v of [...Object.values(m.codi), ...Object.values(m.renoise)]) {
    if (!Number.isFinite(v)) throw new RangeError(`sampler choice needs finite PSNR values, got ${v}`);
  }
  const kind: DistilledKind = m.renoise[2] + m.renoise[4] > m.codi[2] + m.codi[4] ? 'codi-renoise' : 'codi';
  const psnr = kind === 'codi' ? { ...m.codi } : { 1: m.codi[1], 2: m.renoise[2], 4: m.renoise[4] };
  const steps = ([1, 2, 4] as const).reduce((a, b) => (psnr[b] > psnr[a] ? b : a));
  return { kind, steps, psnr };
}
