/**
 * Consistency-model boundary scalings c_skip(t), c_out(t) with c_skip(0) = 1, c_out(0) = 0
 * (paper Eq. 11; docs/method.md §5). t is the integer DDPM index, multiplied by the
 * timestep scaling (10) as in [FC] and diffusers' LCMScheduler.
 */

/** 'lcm' (default): c_out = 10t/√((10t)²+σd²). 'gr': the first release's c_out with an extra σd factor (a bug kept as a switch). */
export type CSkipForm = 'lcm' | 'gr';

export const SIGMA_DATA = 0.5;
export const TIMESTEP_SCALING = 10;

export interface BoundaryScalings {
  cSkip: number;
  cOut: number;
}

/** c_skip = σd²/((s·t)²+σd²), c_out = s·t/√((s·t)²+σd²) (× σd for 'gr'). */
export function boundaryScalings(
  t: number,
  form: CSkipForm = 'lcm',
  sigmaData = SIGMA_DATA,
  timestepScaling = TIMESTEP_SCALING,
): BoundaryScalings {
  const st = timestepScaling * t;
  const d2 = sigmaData * sigmaData;
  const cSkip = d2 / (st * st + d2);
  const cOutLcm = st / Math.sqrt(st * st + d2);
  return { cSkip, cOut: form === 'gr' ? sigmaData * cOutLcm : cOutLcm };
}

/** Float64 tables of c_skip and c_out for t = 0..T−1. */
export function boundaryTables(
  T: number,
  form: CSkipForm = 'lcm',
  sigmaData = SIGMA_DATA,
  timestepScaling = TIMESTEP_SCALING,
): { cSkip: Float64Array; cOut: Float64Array } {
  const cSkip = new Float64Array(T);
  const cOut = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const b = boundaryScalings(t, form, sigmaData, timestepScaling);
    cSkip[t] = b.cSkip;
    cOut[t] = b.cOut;
  }
  return { cSkip, cOut };
}
