/**
 * The PyTorch training engine's driver: the same run as training/trainer/trainer.ts (same plan,
 * data order, timesteps and noise from the project RNG, events, checkpoint format and exported
 * weights), with the network, objectives, AdamW and EMA executed by PyTorch worker processes.
 *
 * Node keeps what must not fork into two implementations: reading data (dataset-reader), batch
 * order and crops (BatchSampler), every random draw (core/rng), the schedule and boundary tables
 * (core/math), checkpoints (checkpoint.ts) and the pack exporter. PyTorch gets the op list of
 * core/nn (graph-spec.ts) and the batch, noise and timesteps of each step.
 *
 * Data-parallel: N workers (torch.distributed, gloo on CPU, NCCL on GPU) each take B/N samples
 * of the global batch B and average gradients, so the run follows the one-process run at B.
 */
import { createServer } from 'node:net';
import os from 'node:os';
import { boundaryTables } from '../../core/math/boundary.ts';
import { makeSchedule } from '../../core/math/schedule.ts';
import type { Schedule } from '../../core/math/schedule.ts';
import { graphSpec } from '../../core/nn/graph-spec.ts';
import { shapeSize } from '../../core/nn/params.ts';
import type { ParamRecord } from '../../core/nn/params.ts';
import { Rng } from '../../core/rng.ts';
import { distillTimesteps, vLossTimesteps } from '../objectives/timestep-sampling.ts';
import { BatchSampler } from '../trainer/batch-sampler.ts';
import type { HostBatch } from '../trainer/batch-sampler.ts';
import { loadLatestCheckpoint, onlineWeightsFrom, pruneCheckpoints, recordUnder, saveCheckpoint } from '../trainer/checkpoint.ts';
import type { StoredTensor } from '../trainer/checkpoint.ts';
import { TrainEvents } from '../trainer/events.ts';
import { learningRateAt, runTrainingLoop } from '../trainer/loop.ts';
import type { StepReport } from '../trainer/loop.ts';
import { planRun } from '../trainer/run-plan.ts';
import type { RunPlan } from '../trainer/run-plan.ts';
import { resumedConfig } from '../trainer/config.ts';
import { emaDecayAt, NonFiniteWeightsError, resolveConfig } from '../trainer/trainer.ts';
import type { CheckpointState, ExportWeights, InitialWeights, TrainConfig, TrainData, TrainResult } from '../trainer/trainer.ts';
import type { Header, TensorMap } from './protocol.ts';
import { RemoteWorker, TorchWorker } from './worker.ts';
import type { WorkerLink } from './worker.ts';

export interface TorchEngineOptions {
  /** Python with torch ≥ 1.13 (see python.ts). */
  python: string;
  /** Data-parallel worker processes (default 1); must divide the batch size. */
  processes?: number;
  /** Compute precision; master weights, moments and EMA stay fp32 (default fp32). */
  precision?: 'fp32' | 'bf16';
  /** Intra-op threads per worker (default: CPU cores / processes). */
  threads?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  /**
   * Many machines: instead of starting workers, listen here for `processes` ranks started by
   * torchrun (`-m codi_torch.worker --connect HOST:PORT`), on this machine or others.
   */
  listen?: { host: string; port: number; onListening?: (address: string) => void; timeoutMs?: number };
}

/** What the workers run for each method. */
function objectiveOf(method: TrainConfig['method']): 'v-loss' | 'codi' | 'cm' {
  return method === 'pretrain' || method === 'teacher' ? 'v-loss' : method === 'cm' ? 'cm' : 'codi';
}

/** Timesteps and noise of one step, drawn in the same order as the TF.js objective's prepare(). */
export function drawStep(config: TrainConfig, rng: Rng, batch: number, T: number, elements: number): { ts: number[]; ss: number[]; eps: Float32Array } {
  let ts: number[];
  let ss: number[];
  const kind = objectiveOf(config.method);
  if (kind === 'v-loss') {
    ts = vLossTimesteps(rng, batch, 0, T - 1);
    ss = ts;
  } else {
    const d = distillTimesteps(rng, batch, T, config.distillSteps, kind === 'cm' ? config.cmTSampling : config.codi.tSampling);
    ts = d.t;
    ss = d.s;
  }
  return { ts, ss, eps: rng.fillGaussian(new Float32Array(elements)) };
}

function put(into: TensorMap, prefix: string, rec: ParamRecord): void {
  for (const [k, p] of Object.entries(rec)) into.set(`${prefix}${k}`, { shape: [...p.shape], data: p.data });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Accept `count` ranks on `listen`, in rank order; they must agree on the world size. */
async function acceptRemoteWorkers(listen: NonNullable<TorchEngineOptions['listen']>, count: number): Promise<RemoteWorker[]> {
  const server = createServer();
  const accepted: Array<Promise<RemoteWorker>> = [];
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
    const addr = server.address();
    listen.onListening?.(typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : `${listen.host}:${listen.port}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${accepted.length} of ${count} torch workers connected within ${Math.round((listen.timeoutMs ?? 600_000) / 1000)} s`)), listen.timeoutMs ?? 600_000);
      server.on('connection', (socket) => {
        accepted.push(RemoteWorker.accept(socket));
        if (accepted.length === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const workers = await Promise.all(accepted);
    workers.sort((a, b) => a.rank - b.rank);
    const bad = workers.find((w, i) => w.world !== count || w.rank !== i);
    if (bad) {
      await Promise.all(workers.map((w) => w.close()));
      throw new Error(`torch workers report ranks [${workers.map((w) => w.rank)}] of world ${bad.world}; --processes is ${count}`);
    }
    return workers;
  } finally {
    server.close();
  }
}

/** Workers set up with a run's weights; the building block of TorchTrainer and of the parity tests. */
export class TorchSession {
  private constructor(
    readonly workers: WorkerLink[],
    readonly info: Header,
  ) {}

  /**
   * Start `processes` workers and load the run: `tensors` holds model/…, frozen/… and, when
   * resuming, ema/…, adam_m/…, adam_v/… (ParamRecord layouts); `adamStep` marks a resume.
   */
  static async start(config: TrainConfig, schedule: Schedule, plan: Pick<RunPlan, 'trainable' | 'lrScale' | 'frozen'>, hasAdapter: boolean, condChannels: number, textDim: number, tensors: TensorMap, opts: TorchEngineOptions, adamStep?: number): Promise<TorchSession> {
    const processes = opts.processes ?? 1;
    if (!Number.isInteger(processes) || processes < 1) throw new Error(`--processes must be a positive integer, got ${processes}`);
    if (config.batchSize % processes !== 0) throw new Error(`batch size ${config.batchSize} is not a multiple of ${processes} processes`);
    const threads = opts.threads ?? Math.max(1, Math.floor(os.availableParallelism() / processes));
    const form = config.codi.cSkipForm;
    const bt = boundaryTables(schedule.T, form);
    const header: Header = {
      cmd: 'setup',
      graph: graphSpec(config.net, hasAdapter ? { condChannels, textDim } : undefined),
      ...(config.codi.odeModel === 'pretrained' ? { backboneGraph: graphSpec(config.net) } : {}),
      objective: objectiveOf(config.method),
      codi: { odeModel: config.codi.odeModel, odeEps: config.codi.odeEps, consistencySpace: config.codi.consistencySpace },
      xWeight: config.xWeight,
      tables: { alpha: Array.from(schedule.alpha), sigma: Array.from(schedule.sigma), cSkip: Array.from(bt.cSkip), cOut: Array.from(bt.cOut) },
      trainable: plan.trainable,
      lrScale: Object.fromEntries(plan.lrScale),
      optimizer: config.optimizer,
      frozen: [...plan.frozen.keys()],
      precision: opts.precision ?? 'fp32',
      device: opts.device ?? 'auto',
      threads,
      world: processes,
      ...(adamStep !== undefined ? { adamStep } : {}),
    };
    let workers: WorkerLink[];
    let perRank: (rank: number) => Header;
    if (opts.listen) {
      // ranks from torchrun: it set their threads (OMP_NUM_THREADS) and the rendezvous (env://)
      const remote = await acceptRemoteWorkers(opts.listen, processes);
      workers = remote;
      perRank = (rank) => ({ rank, localRank: remote[rank]!.localRank, threads: opts.threads ?? 0, ...(processes > 1 ? { initMethod: 'env://' } : {}) });
    } else {
      const initMethod = processes > 1 ? `tcp://127.0.0.1:${await freePort()}` : undefined;
      workers = Array.from({ length: processes }, () => new TorchWorker(opts.python));
      perRank = (rank) => ({ rank, ...(initMethod ? { initMethod } : {}) });
    }
    try {
      const replies = await Promise.all(workers.map((w, rank) => w.request({ ...header, ...perRank(rank) }, tensors)));
      return new TorchSession(workers, replies[0]!.header);
    } catch (err) {
      await Promise.all(workers.map((w) => w.close()));
      throw err;
    }
  }

  /** Send each worker its shard of a batch (NHWC arrays, split along the batch). */
  async all(header: Header, batch: HostBatch & { eps: Float32Array; ts: number[]; ss: number[] }, channels: number, condChannels: number, textDim: number): Promise<Header[]> {
    const n = this.workers.length;
    const per = batch.batch / n;
    const px = batch.h * batch.w;
    return Promise.all(
      this.workers.map(async (w, r) => {
        const slice = (a: Float32Array, width: number) => a.subarray(r * per * width, (r + 1) * per * width);
        const t: TensorMap = new Map();
        t.set('x', { shape: [per, batch.h, batch.w, channels], data: slice(batch.x, px * channels) });
        t.set('eps', { shape: [per, batch.h, batch.w, channels], data: slice(batch.eps, px * channels) });
        if (batch.cond) t.set('cond', { shape: [per, batch.h, batch.w, condChannels], data: slice(batch.cond, px * condChannels) });
        if (batch.text) t.set('text', { shape: [per, textDim], data: slice(batch.text, textDim) });
        const reply = await w.request({ ...header, ts: batch.ts.slice(r * per, (r + 1) * per), ss: batch.ss.slice(r * per, (r + 1) * per) }, t);
        return reply.header;
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

export class TorchTrainer {
  readonly events = new TrainEvents();
  readonly schedule: Schedule;
  private stepCount = 0;
  private wallSeconds = 0;
  private rng: Rng;
  private readonly sampler: BatchSampler;

  private constructor(
    readonly config: TrainConfig,
    private readonly data: TrainData,
    private readonly plan: RunPlan,
    private readonly session: TorchSession,
    private readonly runDir: string | null,
  ) {
    this.schedule = makeSchedule(config.schedule);
    this.rng = new Rng(config.seed);
    this.sampler = new BatchSampler(plan.items, data.geometry, config.batchSize, config.seed + 1_000_003, config.crop ?? undefined);
  }

  /** Device and precision the workers run on, for one log line. */
  get deviceInfo(): string {
    const i = this.session.info;
    return `${String(i.device)}, ${i.bf16 ? 'bf16' : 'fp32'}, ${String(i.threads)} threads × ${this.session.workers.length} process${this.session.workers.length > 1 ? 'es' : ''}`;
  }

  private static async start(config: TrainConfig, data: TrainData, init: InitialWeights, runDir: string | null, opts: TorchEngineOptions, resume?: { tensors: Map<string, StoredTensor>; adamStep: number }): Promise<TorchTrainer> {
    const plan = planRun(config, data, init);
    const geo = data.geometry;
    const tensors: TensorMap = new Map();
    put(tensors, 'model/backbone/', plan.backbone);
    if (plan.adapter) put(tensors, 'model/adapter/', plan.adapter);
    for (const [name, rec] of plan.frozen) put(tensors, `frozen/${name}/`, rec);
    if (resume) for (const [k, t] of resume.tensors) if (/^(ema|adam_m|adam_v|frozen)\//.test(k)) tensors.set(k, t);
    const schedule = makeSchedule(config.schedule);
    const session = await TorchSession.start(config, schedule, plan, plan.adapter !== undefined, geo.condChannels, geo.textDim, tensors, opts, resume?.adamStep);
    try {
      return new TorchTrainer(config, data, plan, session, runDir);
    } catch (err) {
      await session.close();
      throw err;
    }
  }

  static async create(config: Partial<TrainConfig>, data: TrainData, init: InitialWeights, runDir: string | null, opts: TorchEngineOptions): Promise<TorchTrainer> {
    return TorchTrainer.start(resolveConfig(config), data, init, runDir, opts);
  }

  /** Resume the newest checkpoint of `runDir` (written by either engine); null when it has none. */
  static async resume(runDir: string, data: TrainData, overrides: { steps?: number; resetEma?: boolean }, opts: TorchEngineOptions): Promise<TorchTrainer | null> {
    const ck = await loadLatestCheckpoint<CheckpointState>(runDir);
    if (!ck) return null;
    const st = ck.state;
    const config = resumedConfig(st.config, st.step, overrides);
    const init: InitialWeights = onlineWeightsFrom(ck.tensors, st.hasAdapter);
    const kept = new Map([...ck.tensors].filter(([k]) => !(overrides.resetEma && k.startsWith('ema/'))));
    const tr = await TorchTrainer.start(config, data, init, runDir, opts, { tensors: kept, adamStep: st.adamStep });
    tr.rng = Rng.fromState(st.rng);
    tr.sampler.setState(st.sampler);
    tr.stepCount = st.step;
    tr.wallSeconds = st.wallSeconds;
    return tr;
  }

  get step(): number {
    return this.stepCount;
  }

  trainableCount(): number {
    const size = (name: string) => {
      const [part, ...rest] = name.split('/');
      const rec = part === 'backbone' ? this.plan.backbone : this.plan.adapter!;
      return shapeSize(rec[rest.join('/')]!.shape);
    };
    return this.plan.trainable.reduce((n, name) => n + size(name), 0);
  }

  /** The LR of the update that takes the run from `step` to `step + 1` (as Trainer.learningRate). */
  learningRate(step: number): number {
    return learningRateAt(this.config, step);
  }

  /** Train until `config.steps` (or `untilStep`): the loop both engines share (trainer/loop.ts). */
  async run(options: { untilStep?: number; signal?: { readonly aborted: boolean } } = {}): Promise<TrainResult> {
    return runTrainingLoop(
      {
        config: this.config,
        events: this.events,
        checkpoints: this.runDir !== null,
        position: () => this.stepCount,
        step: () => this.trainStep(),
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

  /** One step in the workers: Node draws the batch and the noise, the workers apply it (or refuse a non-finite one). */
  private async trainStep(): Promise<StepReport> {
    const c = this.config;
    const geo = this.data.geometry;
    const batch = this.sampler.nextArrays();
    const draws = drawStep(c, this.rng, batch.batch, this.schedule.T, batch.x.length);
    const header = { cmd: 'step', lr: this.learningRate(this.stepCount), emaDecay: emaDecayAt(c, this.stepCount) };
    const r = (await this.session.all(header, { ...batch, ...draws }, geo.channels, geo.condChannels, geo.textDim))[0]!;
    return { applied: r.applied === true, total: r.total as number, terms: r.terms as Record<string, number>, gradNorm: r.gradNorm as number };
  }

  /** Everything the workers hold, in checkpoint names and ParamRecord layouts (rank 0's copy). */
  private async state(): Promise<{ tensors: TensorMap; adamStep: number }> {
    const r = await this.session.workers[0]!.request({ cmd: 'state' });
    return { tensors: r.tensors, adamStep: r.header.adamStep as number };
  }

  /** Write a checkpoint in the TF.js trainer's format (refuses non-finite weights). */
  async checkpoint(): Promise<string> {
    if (!this.runDir) throw new Error('this trainer has no run folder');
    const { tensors, adamStep } = await this.state();
    for (const [name, t] of tensors) {
      if (!t.data.every(Number.isFinite)) throw new NonFiniteWeightsError(`refusing to checkpoint: ${name} holds NaN/Inf`);
    }
    const state: CheckpointState & { engine: 'torch' } = {
      config: this.config,
      step: this.stepCount,
      rng: this.rng.getState(),
      sampler: this.sampler.getState(),
      adamStep,
      wallSeconds: this.wallSeconds,
      hasAdapter: this.plan.adapter !== undefined,
      frozen: [...this.plan.frozen.keys()],
      engine: 'torch',
    };
    const dir = await saveCheckpoint(this.runDir, this.stepCount, tensors, state);
    await pruneCheckpoints(this.runDir, this.config.keepCheckpoints);
    this.events.emit({ type: 'checkpoint', step: this.stepCount, dir });
    return dir;
  }

  /** Weights of `which` set: EMA of what trains + frozen parts (export), or the online weights. */
  private async weights(which: 'ema' | 'online'): Promise<ExportWeights> {
    const { tensors } = await this.state();
    const pick = (part: 'backbone' | 'adapter'): ParamRecord => {
      const online = recordUnder(tensors, `model/${part}`);
      if (which === 'online') return online;
      const ema = recordUnder(tensors, `ema/${part}`);
      return Object.keys(ema).length > 0 ? ema : online;
    };
    return { backbone: pick('backbone'), ...(this.plan.adapter ? { adapter: pick('adapter') } : {}) };
  }

  /** EMA weights for export (PE-CoDi: the frozen backbone and the EMA adapter). Throws on NaN/Inf. */
  async exportWeights(): Promise<ExportWeights> {
    const w = await this.weights('ema');
    for (const rec of [w.backbone, ...(w.adapter ? [w.adapter] : [])]) {
      for (const p of Object.values(rec)) if (!p.data.every(Number.isFinite)) throw new NonFiniteWeightsError('refusing to export: the EMA weights hold NaN/Inf');
    }
    return w;
  }

  async onlineWeights(): Promise<ExportWeights> {
    return this.weights('online');
  }

  async dispose(): Promise<void> {
    await this.session.close();
  }
}
