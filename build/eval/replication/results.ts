// The measured results' shapes, in their own module: evaluate.ts fills them and report.ts renders
// them, and neither may import the other (tests/architecture forbids import circles).
import type { RowId } from './plan.ts';

/** Per-crop measures of one evaluated configuration, plus its feature distances. */
export interface ConfigResult {
  psnr: number[];
  ssim: number[];
  gmsd: number[];
  frechet: number | null;
  featureL2: number | null;
  msPerImage: number;
}

export interface SeedResults {
  seed: number;
  /** row → sampler label → result; a row is absent when its pack is not trained yet */
  rows: Partial<Record<RowId, Record<string, ConfigResult>>>;
  /** teacher stages: steps → DDIM 1 (when measured) / DDIM 4 / DDIM 50 mean PSNR */
  teacherCurve: { steps: number; ddim1?: number; ddim4: number; ddim50: number }[];
}
