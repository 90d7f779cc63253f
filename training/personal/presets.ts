/**
 * Training presets for personal adapters (PE-CoDi on the bundled backbone). Step counts are
 * sized from a measured 2-core CPU rate (see calibrate.ts: the estimate shown to the user is
 * always re-measured on their data and machine, these are only the budgets).
 */

export type PresetId = 'tiny' | 'quick' | 'balanced' | 'best';

/** One preset: what the trainer and the dataset writer get. */
export interface PersonalPreset {
  id: PresetId;
  label: string;
  /** What the user is told it is for. */
  blurb: string;
  steps: number;
  batchSize: number;
  lr: number;
  /** LR multiplier of μ (short runs need it to open the adapter path; see TrainConfig.muLrScale). */
  muLrScale: number;
  warmupSteps: number;
  emaDecay: number;
  /** Training crop side in pixels. */
  crop: number;
  cropsPerPair: number;
  valCropsPerPair: number;
  /** CoDi timestep draw: one t per batch (paper) or per sample. */
  tSampling?: 'sharedPerBatch' | 'perSample';
  /** Previews (and a checkpoint) every this many steps. */
  previewEvery: number;
}

const common = { crop: 64, valCropsPerPair: 2, warmupSteps: 10 } as const;

export const PRESETS: Record<PresetId, PersonalPreset> = {
  // CI/e2e only: proves the flow, learns little.
  tiny: { ...common, id: 'tiny', label: 'Tiny (test)', blurb: 'a few steps, for tests', steps: 12, batchSize: 2, lr: 2e-3, muLrScale: 20, warmupSteps: 2, emaDecay: 0.5, cropsPerPair: 2, previewEvery: 6 },
  // lr/μ-scale as the CI's short PE-CoDi runs (tests/training); measured: 1.3 s/step at batch 4 on the 2-core dev box while another training job shared it
  quick: { ...common, id: 'quick', label: 'Quick', blurb: 'about 10 minutes on a 2-core laptop', steps: 300, batchSize: 4, lr: 2e-3, muLrScale: 40, warmupSteps: 20, emaDecay: 0.95, cropsPerPair: 8, previewEvery: 50 },
  balanced: { ...common, id: 'balanced', label: 'Balanced', blurb: 'better fidelity, ~3× Quick', steps: 900, batchSize: 4, lr: 1e-3, muLrScale: 20, warmupSteps: 30, emaDecay: 0.98, cropsPerPair: 16, previewEvery: 100 },
  best: { ...common, id: 'best', label: 'Best', blurb: 'longest run (about 1–2 h on a 2-core laptop)', steps: 1600, batchSize: 8, lr: 6e-4, muLrScale: 10, warmupSteps: 50, emaDecay: 0.99, cropsPerPair: 24, previewEvery: 200 },
};

/** The presets a user picks from (tiny is for tests). */
export const USER_PRESETS: readonly PresetId[] = ['quick', 'balanced', 'best'];

export function getPreset(id: string): PersonalPreset {
  if (!(id in PRESETS)) throw new Error(`unknown preset "${id}" (quick, balanced, best)`);
  return PRESETS[id as PresetId];
}

/** Seconds for a run from a measured seconds-per-step (plus the fixed export/preview overhead). */
export function estimateSeconds(preset: PersonalPreset, secondsPerStep: number, overheadSeconds = 0): number {
  const previews = Math.floor(preset.steps / preset.previewEvery);
  // a preview samples 4 steps on a few crops: about one training step's worth of forward passes
  return preset.steps * secondsPerStep + previews * secondsPerStep + overheadSeconds;
}
