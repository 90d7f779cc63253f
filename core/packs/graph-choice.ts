/**
 * Which of a pack's denoiser graphs the engine runs. A pack may carry a statically quantised int8
 * copy of its float denoiser, which runs about 2× faster on the CPU provider. The float graph is
 * the default: the inpaint pack's int8 copy matched it on 397 validation crops (72.5 vs 72.8 % of
 * crops within all three fill criteria) but met them on 2 fewer of the 37 held-out photos (73 vs
 * 78 %, under the 75 % target), so it is the user's choice (CODI_PRECISION=int8), not ours. GPU
 * providers always run the float graph: they would only dequantise the int8 one.
 */
import type { PackFile } from './manifest.ts';

export type PrecisionPreference = 'float32' | 'int8';

export interface DenoiserChoice {
  file: PackFile;
  /** Why this graph, for the job's notes. */
  why: string;
}

/** CODI_PRECISION's value as a preference; anything else is the default, float32. */
export function parsePrecision(value: string | undefined): PrecisionPreference {
  return value === 'int8' ? 'int8' : 'float32';
}

export function chooseDenoiser(files: readonly PackFile[], provider: string, preference: PrecisionPreference = 'float32'): DenoiserChoice | null {
  const denoisers = files.filter((f) => f.role === 'denoiser');
  const float = denoisers.find((f) => (f.precision ?? 'float32') === 'float32');
  const int8 = denoisers.find((f) => f.precision === 'int8');
  if (!float) return null;
  if (preference === 'float32') return { file: float, why: 'float32' };
  if (!int8) return { file: float, why: 'float32 (int8 asked for; the pack has no int8 graph)' };
  if (provider !== 'cpu') return { file: float, why: `float32 (int8 asked for; it is for the CPU provider, ${provider} runs float natively)` };
  return { file: int8, why: 'int8 (static quantisation, CODI_PRECISION=int8)' };
}
