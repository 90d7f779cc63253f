/**
 * What defines a training run (TrainConfig, with its defaults) and what it starts from (initial
 * weights, the data), apart from the Trainer so the run plan (run-plan.ts), shared with the
 * PyTorch engine, reads them without importing the TF.js trainer.
 */
import type { NetConfig } from '../../core/nn/config.ts';
import { defaultNetConfig } from '../../core/nn/config.ts';
import type { NoiseScheduleSpec, TrainingMethod } from '../../core/packs/manifest.ts';
import type { HoleFill } from '../../core/conditions.ts';
import type { ResidualMode } from '../../core/residual.ts';
import type { ParamRecord } from '../model/network.ts';
import { DEFAULT_CODI_SWITCHES } from '../objectives/codi.ts';
import type { CodiSwitches } from '../objectives/codi.ts';
import type { TSampling } from '../objectives/timestep-sampling.ts';
import { DEFAULT_ADAMW } from '../optim/adamw.ts';
import type { AdamWConfig } from '../optim/adamw.ts';
import type { LatentGeometry, LatentItem } from './batch-sampler.ts';

export type TrainMethod = TrainingMethod;

/** Everything that defines a run. Defaults below; see docs/method.md §§4.3, 6. */
export interface TrainConfig {
  method: TrainMethod;
  net: NetConfig;
  schedule: NoiseScheduleSpec;
  steps: number;
  batchSize: number;
  seed: number;
  optimizer: AdamWConfig;
  /**
   * Linear learning-rate warm-up over the first this-many steps (0: constant LR from step 1,
   * as in the released code). Tiny models at a high LR (CI, personal adapters) need it to
   * get through the first steps without blowing up the freshly initialised layers.
   */
  warmupSteps: number;
  /** EMA decay γ (the EMA is the CoDi target and the exported model). */
  emaDecay: number;
  /**
   * Warm the EMA up: decay_n = min(γ, (1 + n)/(10 + n)) for the n-th update since emaStartStep.
   * Without it a short CPU run exports γ^steps of the INITIAL weights (0.999^1000 ≈ 37 % of a
   * random init for a 1000-step backbone), which measured as noise at sampling time.
   */
  emaWarmup: boolean;
  /** Step at which the EMA was (re)started from the online weights (0 for a fresh run). */
  emaStartStep: number;
  /** Distillation grid N (k = T/N) for codi / pe-codi / cm. */
  distillSteps: number;
  /** Weight of CoDi's latent-space ground-truth term d_x. */
  xWeight: number;
  codi: CodiSwitches;
  /** CM baseline timestep sampling (the CM/LCM code draws per sample). */
  cmTSampling: TSampling;
  /**
   * Initial μ of a FRESH adapter (ignored when the adapter comes from a pack or checkpoint).
   * 0 (the paper's value) makes the adapted model equal the backbone at step 0; other values
   * are an experiment switch (they break that equivalence, as cond.out is not zero-initialised).
   */
  muInit: number;
  /**
   * Learning-rate multiplier of μ. μ is one scalar per level gating the whole adapter (every
   * adapter gradient is scaled by μ), so at the base LR it opens in ~1/lr steps; short runs
   * (CI, personal adapters) raise it. 1 = the plain optimizer.
   */
  muLrScale: number;
  /**
   * Learning-rate multiplier of the adapter's text projection. Why: the instruction enters as a
   * small addition to the time embedding, and at the base rate the edit adapter learned one
   * instruction-independent change (shuffling the instructions of the val crops moved its x̂ by 0.16 dB).
   */
  textLrScale: number;
  /** Random latent crop (h, w); null trains on whole items. */
  crop: { h: number; w: number } | null;
  /**
   * 'condition': train on y = x − b, b = the image in the condition (core/residual.ts); the
   * exported manifest says so and every sampler adds b back. 'none': plain x targets.
   */
  residual: ResidualMode;
  /** k of y = k·(x − b) for residual targets (core/residual.ts); 1 = unscaled. */
  residualScale: number;
  /**
   * Inpaint: what the condition carries under the hole (core/conditions.ts HoleFill), and so the
   * residual base; kept in checkpoints so a resumed run reads its data the same way.
   */
  holeFill: HoleFill;
  /** Checkpoint every this many steps (0: only at the end of run()). */
  checkpointEvery: number;
  keepCheckpoints: number;
  /** Progress event every this many steps. */
  logEvery: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  method: 'codi',
  net: defaultNetConfig,
  schedule: { kind: 'scaled-linear', trainSteps: 1000 },
  steps: 1000,
  batchSize: 8,
  seed: 0,
  optimizer: { ...DEFAULT_ADAMW, lr: 2e-4 },
  warmupSteps: 0,
  emaDecay: 0.999,
  emaWarmup: true,
  emaStartStep: 0,
  distillSteps: 50,
  xWeight: 1,
  codi: DEFAULT_CODI_SWITCHES,
  cmTSampling: 'perSample',
  muInit: 0,
  muLrScale: 1,
  textLrScale: 1,
  crop: null,
  residual: 'none',
  residualScale: 1,
  holeFill: 'zero',
  checkpointEvery: 0,
  keepCheckpoints: 2,
  logEvery: 10,
};

/** Merge a partial config onto the defaults (nested objects merged one level deep). */
export function resolveConfig(partial: Partial<TrainConfig>): TrainConfig {
  const d = DEFAULT_TRAIN_CONFIG;
  return {
    ...d,
    ...partial,
    net: { ...d.net, ...partial.net },
    schedule: { ...d.schedule, ...partial.schedule },
    optimizer: { ...d.optimizer, ...partial.optimizer },
    codi: { ...d.codi, ...partial.codi },
  };
}

/** Starting weights. pretrain: none needed; teacher/codi/pe-codi: a backbone; cm: a teacher (backbone + adapter). */
export interface InitialWeights {
  backbone?: ParamRecord;
  adapter?: ParamRecord;
}

/** The training data: train items and their geometry. */
export interface TrainData {
  items: readonly LatentItem[];
  geometry: LatentGeometry;
}

/**
 * The config a resumed run continues with: the checkpoint's own, with switches added since filled
 * by their defaults, an extended step count, and (resetEma) the EMA restarted at the checkpoint's
 * step with warm-up. Both engines resume through this one rule.
 */
export function resumedConfig(saved: TrainConfig, savedStep: number, overrides: { steps?: number; resetEma?: boolean }): TrainConfig {
  return resolveConfig({
    ...saved,
    ...(overrides.steps !== undefined ? { steps: overrides.steps } : {}),
    ...(overrides.resetEma ? { emaStartStep: savedStep, emaWarmup: true } : {}),
  });
}
