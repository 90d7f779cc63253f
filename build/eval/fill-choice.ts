/**
 * The inpaint pack's fill settings chosen from validation measurements (build/choose-fill-samples.ts):
 * which (start temperature, samples, independent or antithetic draws) a pack ships, or the classic
 * fill when the model is worse.
 *
 * The order of what counts: first the share of crops on which the fill meets the three
 * per-photo criteria against the classic fill (the held-out evaluation's bar, so a setting that is
 * faster or sharper on average but fails more photos does not win); then fewer samples (each is a
 * model call of the interactive preview); then hole PSNR.
 */

/** One measured pair on the validation crops. */
export interface FillCandidate {
  temperature: number;
  samples: number;
  /** the samples drawn in antithetic pairs z_T, −z_T (core/samplers/start.ts drawOf); absent = independent */
  antithetic?: boolean;
  /** mean hole PSNR, dB */
  psnr: number;
  /** fraction of crops meeting all three per-photo criteria against the classic fill */
  allCriteria: number;
}

/**
 * Shares closer than this to the best are ties: about half the standard error of a share near
 * 0.7 on 400 crops, so only a setting that fails clearly more photos loses on the share.
 */
export const SHARE_TIE = 0.01;

export type FillChoice = { kind: 'model'; pick: FillCandidate } | { kind: 'classic'; why: string };

export function chooseFill(candidates: readonly FillCandidate[], classicPsnr: number): FillChoice {
  if (candidates.length === 0) throw new RangeError('chooseFill: no candidates measured');
  const best = Math.max(...candidates.map((c) => c.allCriteria));
  const ties = candidates.filter((c) => c.allCriteria >= best - SHARE_TIE).sort((a, b) => a.samples - b.samples || b.psnr - a.psnr);
  const pick = ties[0] as FillCandidate;
  if (pick.psnr < classicPsnr) return { kind: 'classic', why: `the chosen setting (${pick.psnr.toFixed(2)} dB) is below the classic fill (${classicPsnr.toFixed(2)} dB)` };
  return { kind: 'model', pick };
}
