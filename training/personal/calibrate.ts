/**
 * Measured time estimate: a few real PE-CoDi steps on the user's data (the first step, which
 * compiles kernels and allocates, is excluded) → seconds per step → each preset's duration.
 */
import { loadPackForTraining } from '../cli/pack-export.ts';
import { readDataset } from '../data/dataset-reader.ts';
import { initTrainingBackend } from '../tf/backend.ts';
import type { BackendPreference } from '../tf/backend.ts';
import { Trainer } from '../trainer/trainer.ts';
import { estimateSeconds, PRESETS, USER_PRESETS } from './presets.ts';
import type { PersonalPreset, PresetId } from './presets.ts';
import { trainConfigFor } from './train-config.ts';

export interface Calibration {
  backend: string;
  /** Measured seconds per step at each batch size the presets use. */
  secondsPerStep: Record<number, number>;
  /** Estimated run time per preset. */
  estimates: Partial<Record<PresetId, number>>;
  measuredSteps: number;
}

/** Time `steps` steps (after one warm-up step) of `preset` on the dataset in `datasetDir`. */
export async function measureSecondsPerStep(datasetDir: string, backbonePack: string, preset: PersonalPreset, steps = 2): Promise<number> {
  const ds = await readDataset(datasetDir);
  const backbone = await loadPackForTraining(backbonePack);
  const tr = Trainer.create(trainConfigFor(preset, backbone.weights.net, 0, steps + 1), { items: ds.train, geometry: ds.geometry }, { backbone: backbone.weights.backbone });
  try {
    await tr.run({ untilStep: 1 });
    const t0 = performance.now();
    await tr.run({ untilStep: steps + 1 });
    return (performance.now() - t0) / 1000 / steps;
  } finally {
    tr.dispose();
  }
}

/** Calibrate every user preset (one measurement per distinct batch size). */
export async function calibrate(datasetDir: string, backbonePack: string, opts: { steps?: number; backend?: BackendPreference; presets?: readonly PresetId[] } = {}): Promise<Calibration> {
  const b = await initTrainingBackend({ prefer: opts.backend ?? 'auto', log: () => {} });
  const ids = opts.presets ?? USER_PRESETS;
  const secondsPerStep: Record<number, number> = {};
  const estimates: Partial<Record<PresetId, number>> = {};
  for (const id of ids) {
    const p = PRESETS[id];
    secondsPerStep[p.batchSize] ??= await measureSecondsPerStep(datasetDir, backbonePack, p, opts.steps ?? 2);
    estimates[id] = estimateSeconds(p, secondsPerStep[p.batchSize]!);
  }
  return { backend: b.name, secondsPerStep, estimates, measuredSteps: opts.steps ?? 2 };
}
