/**
 * The trainer settings of a personal adapter run, from its preset. Shared by the run itself
 * (session.ts) and the speed calibration (calibrate.ts), which must time the same settings.
 */
import type { NetConfig } from '../../core/nn/config.ts';
import { Trainer } from '../trainer/trainer.ts';
import type { TrainConfig } from '../trainer/trainer.ts';
import type { PersonalPreset } from './presets.ts';

export function trainConfigFor(preset: PersonalPreset, net: NetConfig, seed: number, steps?: number): Partial<TrainConfig> {
  return {
    method: 'pe-codi',
    net,
    steps: steps ?? preset.steps,
    batchSize: preset.batchSize,
    optimizer: { ...Trainer.defaults().optimizer, lr: preset.lr },
    muLrScale: preset.muLrScale,
    warmupSteps: preset.warmupSteps,
    emaDecay: preset.emaDecay,
    ...(preset.tSampling ? { codi: { ...Trainer.defaults().codi, tSampling: preset.tSampling } } : {}),
    seed,
    crop: null,
    // A personal look changes colours and tones, not content: learning the change on top of the
    // "before" photo (core/residual.ts) keeps every detail and converges within a Quick run.
    residual: 'condition',
    // run() checkpoints at the end of every chunk (one chunk per preview)
    checkpointEvery: 0,
    logEvery: 1,
  };
}
