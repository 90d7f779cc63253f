/**
 * The seeded, deterministic CoDi trainer (minGPT trainer shape: typed config with defaults at
 * the top, events for progress). Methods:
 *   pretrain  backbone v-loss (unconditional)
 *   teacher   v-loss on backbone + adapter (the conditional fine-tuned baseline), all trainable
 *   codi      full CoDi: backbone + adapter (incl. μ) trainable, CoDi objective
 *   pe-codi   backbone frozen, only the adapter (incl. μ) trains and is saved
 *   cm        consistency distillation (CM-II) from a frozen copy of a conditional teacher
 * Exact resume: weights, EMA, AdamW moments, step, RNG and data-order state are checkpointed;
 * on the same backend a resumed run reproduces an uninterrupted one bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { validateNetConfig } from '../../core/nn/config.ts';
import { makeSchedule } from '../../core/math/schedule.ts';
import type { Schedule } from '../../core/math/schedule.ts';
import { Rng } from '../../core/rng.ts';
import type { RngState } from '../../core/rng.ts';
import { forwardModel, paramsFromRecord, paramsToRecord } from '../model/network.ts';
import { planRun } from './run-plan.ts';
import type { ParamRecord, ParamSet } from '../model/network.ts';
import { cmObjective } from '../objectives/cm.ts';
import { codiObjective } from '../objectives/codi.ts';
import { computeGradients } from '../objectives/grads.ts';
import type { Denoiser, Objective } from '../objectives/types.ts';
import { vLossObjective } from '../objectives/v-loss.ts';
import { AdamW } from '../optim/adamw.ts';
import { cloneParams, updateEma } from '../optim/ema.ts';
import { allFinite, assignAll } from '../optim/variables.ts';
import { BatchSampler, disposeBatch } from './batch-sampler.ts';
import type { SamplerState } from './batch-sampler.ts';
import { loadLatestCheckpoint, onlineWeightsFrom, pruneCheckpoints, recordUnder, saveCheckpoint } from './checkpoint.ts';
import type { StoredTensor } from './checkpoint.ts';
import { TrainEvents } from './events.ts';
import { learningRateAt, runTrainingLoop } from './loop.ts';
import type { StepReport, TrainResult } from './loop.ts';
export type { TrainResult } from './loop.ts';
import { resolveConfig, resumedConfig } from './config.ts';
import type { InitialWeights, TrainConfig, TrainData } from './config.ts';

// The run's config, its defaults and its inputs live in config.ts (the run plan reads them
// without the trainer); they are named here too, where every caller has always taken them.
export { DEFAULT_TRAIN_CONFIG, resolveConfig } from './config.ts';
export type { InitialWeights, TrainConfig, TrainData, TrainMethod } from './config.ts';

/** Weights for export: the EMA of the trainable set, the frozen parts as they are. */
export interface ExportWeights {
  backbone: ParamRecord;
  adapter?: ParamRecord;
}

export interface CheckpointState {
  config: TrainConfig;
  step: number;
  rng: RngState;
  sampler: SamplerState;
  adamStep: number;
  wallSeconds: number;
  hasAdapter: boolean;
  frozen: string[];
}

/** Thrown by exportWeights/checkpoints when a weight is NaN or Inf. */
export class NonFiniteWeightsError extends Error {}

const prefixed = (prefix: string, set: ParamSet) => [...set].map(([k, v]) => [`${prefix}/${k}`, v] as const);
function subset(all: Map<string, tf.Variable>, prefix: string): ParamSet {
  const out: ParamSet = new Map();
  for (const [k, v] of all) if (k.startsWith(`${prefix}/`)) out.set(k.slice(prefix.length + 1), v);
  return out;
}
function toStored(set: Map<string, tf.Tensor>, prefix: string, into: Map<string, StoredTensor>): void {
  for (const [k, v] of set) into.set(`${prefix}/${k}`, { shape: [...v.shape], data: new Float32Array(v.dataSync()) });
}
function frozenSet(rec: ParamRecord): ParamSet {
  // (a plain-data round trip makes an independent copy)
  const set = paramsFromRecord(rec);
  // Frozen weights must not receive gradients even if a closure reaches them.
  for (const v of set.values()) v.trainable = false;
  return set;
}

export class Trainer {
  readonly events = new TrainEvents();
  readonly config: TrainConfig;
  readonly schedule: Schedule;
  private readonly backbone: ParamSet;
  private readonly adapter: ParamSet | undefined;
  /** Trainable variables keyed 'backbone/…' / 'adapter/…' (the same objects as in backbone/adapter). */
  private readonly trainable: Map<string, tf.Variable>;
  private readonly ema: Map<string, tf.Variable>;
  private readonly opt: AdamW;
  private readonly frozen = new Map<string, ParamSet>();
  private readonly objective: Objective;
  private readonly sampler: BatchSampler;
  private rng: Rng;
  private stepCount = 0;
  private wallSeconds = 0;

  private constructor(config: TrainConfig, data: TrainData, init: InitialWeights, private readonly runDir: string | null) {
    validateNetConfig(config.net);
    this.config = config;
    this.schedule = makeSchedule(config.schedule);
    const { method, seed } = config;
    const geo = data.geometry;
    const plan = planRun(config, data, init);

    // 1. weights (the same plan the PyTorch engine starts from)
    this.backbone = paramsFromRecord(plan.backbone);
    if (plan.adapter) this.adapter = paramsFromRecord(plan.adapter);
    const trainsBackbone = method !== 'pe-codi';
    if (!trainsBackbone) for (const v of this.backbone.values()) v.trainable = false;
    this.trainable = new Map([
      ...(trainsBackbone ? prefixed('backbone', this.backbone) : []),
      ...(this.adapter ? prefixed('adapter', this.adapter) : []),
    ]);
    this.ema = cloneParams(this.trainable);
    this.opt = new AdamW(this.trainable, config.optimizer, plan.lrScale);

    // 2. frozen models the objective reads
    for (const [name, rec] of plan.frozen) this.frozen.set(name, frozenSet(rec));

    // 3. objective
    this.objective = this.makeObjective();
    this.rng = new Rng(seed);
    const items = plan.items;
    this.sampler = new BatchSampler(items, geo, config.batchSize, seed + 1_000_003, config.crop ?? undefined);
  }

  /** The default config (a copy). */
  static defaults(): TrainConfig {
    return resolveConfig({});
  }

  /** A fresh run. `runDir` (optional) receives checkpoints. */
  static create(config: Partial<TrainConfig>, data: TrainData, init: InitialWeights = {}, runDir: string | null = null): Trainer {
    return new Trainer(resolveConfig(config), data, init, runDir);
  }

  /** Resume the newest complete checkpoint of `runDir`; null when it has none. `steps` may extend the run. */
  /**
   * `resetEma` restarts the EMA from the online weights at the checkpoint's step (with warm-up), for
   * runs whose EMA lagged behind; everything else resumes exactly.
   */
  static async resume(runDir: string, data: TrainData, overrides: { steps?: number; resetEma?: boolean } = {}): Promise<Trainer | null> {
    const ck = await loadLatestCheckpoint<CheckpointState>(runDir);
    if (!ck) return null;
    const st = ck.state;
    const config = resumedConfig(st.config, st.step, overrides);
    const init: InitialWeights = onlineWeightsFrom(ck.tensors, st.hasAdapter);
    const tr = new Trainer(config, data, init, runDir);
    // frozen models from the checkpoint (they were copies of the initial weights)
    for (const name of st.frozen) {
      const set = tr.frozen.get(name);
      if (!set) throw new Error(`checkpoint has frozen model ${name} that this config does not use`);
      assignFromRecord(set, recordUnder(ck.tensors, `frozen/${name}`));
    }
    // (the constructor started the EMA as a copy of the online weights: keep that on a reset)
    if (!overrides.resetEma) assignFromRecord(tr.ema, recordUnder(ck.tensors, 'ema'));
    const m = toTensorMap(recordUnder(ck.tensors, 'adam_m'));
    const v = toTensorMap(recordUnder(ck.tensors, 'adam_v'));
    tr.opt.setState({ step: st.adamStep, m, v });
    tf.dispose([...m.values(), ...v.values()]);
    tr.rng = Rng.fromState(st.rng);
    tr.sampler.setState(st.sampler);
    tr.stepCount = st.step;
    tr.wallSeconds = st.wallSeconds;
    return tr;
  }

  get step(): number {
    return this.stepCount;
  }

  private model(backbone: ParamSet, adapter: ParamSet | undefined): Denoiser {
    const net = this.config.net;
    return (inp) => forwardModel(net, adapter ? { backbone, adapter } : { backbone }, inp);
  }

  /** The EMA model: EMA of what trains, frozen parts as they are. */
  private emaModelParams(): { backbone: ParamSet; adapter?: ParamSet } {
    const trainsBackbone = this.config.method !== 'pe-codi';
    const backbone = trainsBackbone ? subset(this.ema, 'backbone') : this.backbone;
    return this.adapter ? { backbone, adapter: subset(this.ema, 'adapter') } : { backbone };
  }

  /** Denoisers for evaluation: the online weights and the EMA (exported) weights. */
  denoisers(): { online: Denoiser; ema: Denoiser } {
    const e = this.emaModelParams();
    return { online: this.model(this.backbone, this.adapter), ema: this.model(e.backbone, e.adapter) };
  }

  private makeObjective(): Objective {
    const c = this.config;
    const online = this.model(this.backbone, this.adapter);
    switch (c.method) {
      case 'pretrain':
      case 'teacher':
        return vLossObjective({ schedule: this.schedule, model: online });
      case 'codi':
      case 'pe-codi': {
        const e = this.emaModelParams();
        const pre = this.frozen.get('pretrained/backbone') ?? this.backbone;
        return codiObjective({
          schedule: this.schedule,
          distillSteps: c.distillSteps,
          xWeight: c.xWeight,
          switches: c.codi,
          online,
          target: this.model(e.backbone, e.adapter),
          pretrained: this.model(pre, undefined),
        });
      }
      case 'cm': {
        const e = this.emaModelParams();
        return cmObjective({
          schedule: this.schedule,
          distillSteps: c.distillSteps,
          tSampling: c.cmTSampling,
          cSkipForm: c.codi.cSkipForm,
          online,
          target: this.model(e.backbone, e.adapter),
          teacher: this.model(this.frozen.get('teacher/backbone')!, this.frozen.get('teacher/adapter')),
        });
      }
    }
  }

  /** Train until `config.steps` (or `untilStep`): the loop both engines share (loop.ts). */
  async run(options: { untilStep?: number; signal?: { readonly aborted: boolean } } = {}): Promise<TrainResult> {
    return runTrainingLoop(
      {
        config: this.config,
        events: this.events,
        checkpoints: this.runDir !== null,
        position: () => this.stepCount,
        step: () => Promise.resolve(this.trainStep()),
        advance: (seconds) => {
          this.stepCount += 1;
          this.wallSeconds += seconds;
        },
        wallSeconds: () => this.wallSeconds,
        checkpoint: () => this.checkpoint(),
      },
      options,
    );
  }

  /** One step on TF.js: gradients, the NaN/Inf guard, AdamW, then the EMA. */
  private trainStep(): StepReport {
    const batch = this.sampler.next();
    const prepared = this.objective.prepare(batch, this.rng);
    const g = computeGradients(prepared, this.trainable);
    prepared.dispose();
    disposeBatch(batch);
    const finite = Number.isFinite(g.total) && Object.values(g.terms).every(Number.isFinite);
    const report = finite ? this.opt.apply(g.grads, this.learningRate(this.stepCount)) : { gradNorm: Number.NaN, applied: false };
    tf.dispose([...g.grads.values()]);
    if (report.applied) updateEma(this.ema, this.trainable, emaDecayAt(this.config, this.stepCount));
    return { applied: report.applied, total: g.total, terms: g.terms, gradNorm: report.gradNorm };
  }

  /** The LR of the update that takes the run from `step` to `step + 1`. */
  learningRate(step: number): number {
    return learningRateAt(this.config, step);
  }

  /** Write a checkpoint of the current state (refuses non-finite weights). */
  async checkpoint(): Promise<string> {
    if (!this.runDir) throw new Error('this trainer has no run folder');
    const tensors = new Map<string, StoredTensor>();
    toStored(this.backbone, 'model/backbone', tensors);
    if (this.adapter) toStored(this.adapter, 'model/adapter', tensors);
    toStored(this.ema, 'ema', tensors);
    const os = this.opt.getState();
    toStored(os.m, 'adam_m', tensors);
    toStored(os.v, 'adam_v', tensors);
    tf.dispose([...os.m.values(), ...os.v.values()]);
    for (const [name, set] of this.frozen) toStored(set, `frozen/${name}`, tensors);
    for (const [name, t] of tensors) {
      if (!t.data.every(Number.isFinite)) throw new NonFiniteWeightsError(`refusing to checkpoint: ${name} holds NaN/Inf`);
    }
    const state: CheckpointState = {
      config: this.config,
      step: this.stepCount,
      rng: this.rng.getState(),
      sampler: this.sampler.getState(),
      adamStep: os.step,
      wallSeconds: this.wallSeconds,
      hasAdapter: this.adapter !== undefined,
      frozen: [...this.frozen.keys()],
    };
    const dir = await saveCheckpoint(this.runDir, this.stepCount, tensors, state);
    await pruneCheckpoints(this.runDir, this.config.keepCheckpoints);
    this.events.emit({ type: 'checkpoint', step: this.stepCount, dir });
    return dir;
  }

  /** EMA weights for export (PE-CoDi: the frozen backbone and the EMA adapter). Throws on NaN/Inf. */
  exportWeights(): ExportWeights {
    const e = this.emaModelParams();
    const sets = [e.backbone, ...(e.adapter ? [e.adapter] : [])];
    if (!allFinite(sets.flatMap((s) => [...s.values()]))) throw new NonFiniteWeightsError('refusing to export: the EMA weights hold NaN/Inf');
    return { backbone: paramsToRecord(e.backbone), ...(e.adapter ? { adapter: paramsToRecord(e.adapter) } : {}) };
  }

  /** Online (non-EMA) weights, for tests and diagnostics. */
  onlineWeights(): ExportWeights {
    return { backbone: paramsToRecord(this.backbone), ...(this.adapter ? { adapter: paramsToRecord(this.adapter) } : {}) };
  }

  /** Trainable parameter count (PE-CoDi: adapter only). */
  trainableCount(): number {
    let n = 0;
    for (const v of this.trainable.values()) n += v.size;
    return n;
  }

  dispose(): void {
    const all = [...this.backbone.values(), ...(this.adapter?.values() ?? []), ...this.ema.values()];
    for (const s of this.frozen.values()) all.push(...s.values());
    tf.dispose(all);
    this.opt.dispose();
  }
}

function assignFromRecord(dst: Map<string, tf.Variable>, rec: ParamRecord): void {
  const m = toTensorMap(rec);
  try {
    assignAll(dst, m);
  } finally {
    tf.dispose([...m.values()]);
  }
}

function toTensorMap(rec: ParamRecord): Map<string, tf.Tensor> {
  return new Map(Object.entries(rec).map(([k, p]) => [k, tf.tensor(p.data, p.shape, 'float32')]));
}

/** The EMA decay for the update after `step` (see TrainConfig.emaWarmup). */
export function emaDecayAt(c: Pick<TrainConfig, 'emaDecay' | 'emaWarmup' | 'emaStartStep'>, step: number): number {
  if (!c.emaWarmup) return c.emaDecay;
  const n = Math.max(0, step - c.emaStartStep);
  return Math.min(c.emaDecay, (1 + n) / (10 + n));
}
