/**
 * The step counts a pack was measured at, read from its manifest's training metrics (written by
 * build/choose-default-steps.ts): held-out PSNR per step count with the pack's own sampler, and
 * the PSNR of the unchanged input (the condition's own image) on the same crops. The editor
 * shows these instead of a rule of thumb: for the shipped packs more steps measured worse.
 */
import type { PackManifest } from './manifest.ts';

export interface StepMeasurement {
  readonly steps: number;
  readonly psnrDb: number;
}

export interface MeasuredSteps {
  /** Ascending by steps; empty when the pack ships no measurements. */
  readonly steps: StepMeasurement[];
  /** PSNR of the unchanged input on the same crops, when measured. */
  readonly inputPsnrDb?: number;
}

/**
 * Metric key per sampler: one step is the same for both CoDi samplers, so the 1-step figure is
 * stored once, under `codi`.
 */
function metricKey(sampler: PackManifest['sampler']['kind'], steps: number): string | null {
  if (sampler === 'codi' || (sampler === 'codi-renoise' && steps === 1)) return `psnr_val_codi_${steps}`;
  if (sampler === 'codi-renoise') return `psnr_val_renoise_${steps}`;
  return null;
}

export function measuredSteps(m: Pick<PackManifest, 'sampler' | 'training'>): MeasuredSteps {
  const metrics = m.training?.metrics ?? {};
  const steps: StepMeasurement[] = [];
  for (let n = 1; n <= m.sampler.maxSteps && n <= 64; n++) {
    const key = metricKey(m.sampler.kind, n);
    const v = key ? metrics[key] : undefined;
    if (v !== undefined && Number.isFinite(v)) steps.push({ steps: n, psnrDb: v });
  }
  const input = metrics.psnr_val_condition;
  return input !== undefined && Number.isFinite(input) ? { steps, inputPsnrDb: input } : { steps };
}
