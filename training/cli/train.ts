/**
 * `codi train`: train a pack from a dataset folder and export it.
 *
 *   codi train --task <restore|inpaint|edit|depth|custom> --data DIR --out PACK
 *              [--method codi|pe-codi|cm|teacher|pretrain] [--backbone PACK] [--init PACK]
 *              [--steps N] [--resume [--reset-ema]] [--run-dir DIR] [--batch N] [--lr X] [--ema X]
 *              [--seed N] [--net tiny|ci|small|default|large] [--distill-steps N] [--mu-lr-scale X] [--x-weight W] [--warmup N] [--t-sampling shared|per-sample] [--consistency-space eps|x] [--ode adapted|pretrained|none] [--checkpoint-every N]
 *              [--crop PX] [--name NAME] [--backend auto|wasm|cpu] [--eval] [--max-items N] [--residual none|condition]
 *              [--hole-fill zero|telea]
 *              [--engine tfjs|torch|auto] [--processes N] [--threads N] [--precision fp32|bf16] [--listen HOST:PORT]
 *
 * With --backbone naming a diffusers folder (unet/, scheduler/) and --method pe-codi, the run is a
 * PE-CoDi adapter on that Stable-Diffusion-class backbone, trained by PyTorch on a data set encoded
 * by `codi encode-dataset` (engine-torch/sd-trainer.ts; training/SD-ADAPTERS.md):
 *   codi train --backbone DIFFUSERS_DIR --method pe-codi --task inpaint|restore|edit --data ENCODED_DIR --out DIR
 *              [--steps N] [--batch N] [--lr X] [--mu-lr-scale X] [--ema X] [--x-weight W] [--seed N]
 *              [--checkpoint-every N] [--resume] [--run-dir DIR] [--precision fp32|bf16] [--grad-checkpointing]
 *              [--processes N] [--pack ONNX_DIR]
 *
 * Progress lines go to stdout; the run folder (default PACK.run) holds resumable checkpoints.
 * Exit codes: 0 done, 1 usage or data error, 2 diverged (NaN/Inf; nothing exported), 130 stopped.
 */
import { checkResidualScale, residualAllowed } from '../../core/residual.ts';
import { parseArgs } from 'node:util';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NetConfig } from '../../core/nn/config.ts';
import { defaultNetConfig } from '../../core/nn/config.ts';
import { packTask, trainingMethod } from '../../core/packs/manifest.ts';
import { INSTRUCTION_FEATURE_DIM, instructionFeatures } from '../../core/text/instruction-features.ts';
import type { PackTask } from '../../core/packs/manifest.ts';
import { readDataset } from '../data/dataset-reader.ts';
import { initTrainingBackend } from '../tf/backend.ts';
import type { BackendPreference } from '../tf/backend.ts';
import { formatEvent } from '../trainer/events.ts';
import { conditionPsnr, evaluateSampling } from '../trainer/sampling-eval.ts';
import { Trainer } from '../trainer/trainer.ts';
import type { ExportWeights, InitialWeights, TrainConfig, TrainData, TrainMethod } from '../trainer/trainer.ts';
import { findTorchPython } from '../engine-torch/python.ts';
import { TorchTrainer } from '../engine-torch/torch-trainer.ts';
import { isDiffusersFolder, runSdTraining, SD_TASKS } from '../engine-torch/sd-trainer.ts';
import type { SdTask, SdTrainOptions } from '../engine-torch/sd-trainer.ts';
import type { TorchEngineOptions } from '../engine-torch/torch-trainer.ts';
import { forwardModel, paramsFromRecord } from '../model/network.ts';
import type { Denoiser } from '../objectives/types.ts';
import { loadPackForTraining, writeTrainedPack } from './pack-export.ts';
import type { LoadedPack } from './pack-export.ts';
import { sourcesFingerprint } from '../data/sources-fingerprint.ts';

/**
 * Network presets for --net (tiny: smallest for smoke runs; ci: the CI end-to-end model; small:
 * a bundled-model budget). 'ci' is one level of 64 channels: with v-prediction the output must
 * carry (α_t/σ_t)·z_t through the whole net, and in a few hundred steps a shallow net at least as
 * wide as the 48-channel latent learns that pass-through far faster than a deeper, narrower
 * one (measured: held-out teacher DDIM-4 15.4 dB vs 11.7 dB for 'tiny' at equal wall time).
 * 'large' is 11.5× the bundled 'small' backbone (16.6 M parameters, 9.3× its FLOPs) with attention
 * at the lowest resolution: for machines with a GPU. No bundled pack uses it; the README says why.
 */
export const NET_PRESETS: Record<'tiny' | 'ci' | 'small' | 'default' | 'large', NetConfig> = {
  tiny: { ...defaultNetConfig, baseChannels: 32, channelMult: [1, 2], groups: 8, timeDim: 32, embDim: 64, condHidden: 32 },
  ci: { ...defaultNetConfig, baseChannels: 64, channelMult: [1], groups: 8, timeDim: 32, embDim: 64, condHidden: 32 },
  small: { ...defaultNetConfig, baseChannels: 48, channelMult: [1, 2, 2], groups: 8, timeDim: 64, embDim: 128, condHidden: 32 },
  default: defaultNetConfig,
  large: { ...defaultNetConfig, baseChannels: 152, channelMult: [1, 2, 2], groups: 8, timeDim: 128, embDim: 512, attention: true, condHidden: 64 },
};

export const TRAIN_USAGE = `usage: codi train --task <restore|inpaint|edit|depth|custom> --data DIR --out PACK
  [--method codi|pe-codi|cm|teacher|pretrain] [--backbone PACK] [--init PACK] [--steps N]
  [--resume [--reset-ema]] [--run-dir DIR] [--batch N] [--lr X] [--ema X] [--seed N] [--net tiny|ci|small|default|large]
  [--distill-steps N] [--mu-lr-scale X] [--x-weight W] [--warmup N] [--t-sampling shared|per-sample] [--consistency-space eps|x] [--ode adapted|pretrained|none] [--checkpoint-every N] [--crop PX] [--name NAME] [--backend auto|wasm|cpu] [--eval] [--max-items N] [--residual none|condition] [--residual-scale K] [--text-lr-scale X] [--hole-fill zero|telea]
  [--engine tfjs|torch|auto] [--processes N] [--threads N] [--precision fp32|bf16] [--listen HOST:PORT]
       codi train --backbone DIFFUSERS_DIR --method pe-codi --task <inpaint|restore|edit> --data ENCODED_DIR --out DIR
  [--steps N] [--batch N] [--lr X] [--mu-lr-scale X] [--ema X] [--x-weight W] [--seed N] [--checkpoint-every N]
  [--resume] [--run-dir DIR] [--precision fp32|bf16] [--grad-checkpointing] [--processes N] [--pack ONNX_DIR]`;

export interface TrainCommandIo {
  log: (line: string) => void;
  error: (line: string) => void;
  /** Cancels the run between steps (the CLI wires SIGINT to it). */
  signal?: { readonly aborted: boolean };
}

class UsageError extends Error {}

function num(v: string | undefined, name: string, int = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (int && !Number.isInteger(n))) throw new UsageError(`--${name} must be a${int ? 'n integer' : ' number'}, got "${v}"`);
  return n;
}

function packName(out: string): string {
  const base = path.basename(path.resolve(out)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  return (base || 'pack').slice(0, 64);
}

/** Run `codi train` with argv (without the leading "train"); resolves to the exit code. */
export async function runTrainCommand(argv: string[], io: TrainCommandIo = { log: console.log, error: console.error }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        task: { type: 'string' },
        data: { type: 'string' },
        out: { type: 'string' },
        method: { type: 'string', default: 'codi' },
        backbone: { type: 'string' },
        init: { type: 'string' },
        steps: { type: 'string' },
        resume: { type: 'boolean', default: false },
        'reset-ema': { type: 'boolean', default: false },
        'run-dir': { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        ema: { type: 'string' },
        seed: { type: 'string' },
        net: { type: 'string', default: 'default' },
        'distill-steps': { type: 'string' },
        'mu-lr-scale': { type: 'string' },
        'x-weight': { type: 'string' },
        warmup: { type: 'string' },
        't-sampling': { type: 'string' },
        'consistency-space': { type: 'string' },
        ode: { type: 'string' },
        'checkpoint-every': { type: 'string' },
        crop: { type: 'string' },
        name: { type: 'string' },
        backend: { type: 'string', default: 'auto' },
        eval: { type: 'boolean', default: false },
        'max-items': { type: 'string' },
        residual: { type: 'string' },
        'text-lr-scale': { type: 'string' },
        'residual-scale': { type: 'string' },
        'hole-fill': { type: 'string' },
        engine: { type: 'string', default: 'tfjs' },
        processes: { type: 'string' },
        threads: { type: 'string' },
        listen: { type: 'string' },
        precision: { type: 'string' },
        'grad-checkpointing': { type: 'boolean', default: false },
        pack: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    io.error(`${(err as Error).message}\n${TRAIN_USAGE}`);
    return 1;
  }
  if (values.help) {
    io.log(TRAIN_USAGE);
    return 0;
  }
  // Ctrl-C stops between steps and writes a checkpoint (unless the caller brings its own signal).
  let detach = () => {};
  if (!io.signal) {
    const ctl = new AbortController();
    const onSigint = () => {
      io.log('interrupt: stopping after this step…');
      ctl.abort();
    };
    process.once('SIGINT', onSigint);
    detach = () => process.removeListener('SIGINT', onSigint);
    io = { ...io, signal: ctl.signal };
  }
  try {
    return await train(values, io);
  } catch (err) {
    io.error(err instanceof UsageError ? `${err.message}\n${TRAIN_USAGE}` : `codi train: ${(err as Error).message}`);
    return 1;
  } finally {
    detach();
  }
}

/**
 * The engine of this run: the PyTorch options when --engine torch|auto finds a Python with
 * torch ≥ 1.13, else null (TF.js). A missing or old torch is one line and the TF.js fallback.
 */
function chooseEngine(v: Values, io: TrainCommandIo): TorchEngineOptions | null {
  const engine = v.engine ?? 'tfjs';
  if (engine !== 'tfjs' && engine !== 'torch' && engine !== 'auto') throw new UsageError(`--engine must be tfjs, torch or auto, got "${v.engine}"`);
  const processes = num(v.processes, 'processes', true) ?? 1;
  if (processes < 1) throw new UsageError(`--processes must be ≥ 1, got "${v.processes}"`);
  const threads = num(v.threads, 'threads', true);
  if (threads !== undefined && threads < 1) throw new UsageError(`--threads must be ≥ 1, got "${v.threads}"`);
  const precision = v.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'bf16') throw new UsageError(`--precision must be fp32 or bf16, got "${v.precision}"`);
  if (engine === 'tfjs') {
    if (v.processes !== undefined || v.precision !== undefined || v.threads !== undefined || v.listen !== undefined) throw new UsageError('--processes, --threads, --precision and --listen need --engine torch or auto');
    return null;
  }
  let listen: TorchEngineOptions['listen'];
  if (v.listen !== undefined) {
    const m = /^(.+):(\d+)$/.exec(v.listen);
    if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen must be HOST:PORT, got "${v.listen}"`);
    const [host, port] = [m[1]!, Number(m[2])];
    listen = {
      host,
      port,
      onListening: (address) =>
        io.log(`waiting for ${processes} torch worker${processes > 1 ? 's' : ''} on ${address}; start them on each machine with: PYTHONPATH=training/torch torchrun --nnodes … --nproc_per_node … -m codi_torch.worker --connect ${host}:${port}`),
    };
  }
  const probe = findTorchPython();
  if (!probe.ok) {
    io.log(`engine: TF.js (no Python with torch ≥ 1.13: ${probe.reason}; set CODI_PYTHON to one)`);
    return null;
  }
  io.log(`engine: PyTorch ${probe.found.torch} via ${probe.found.python}`);
  return { python: probe.found.python, processes, precision, ...(threads !== undefined ? { threads } : {}), ...(listen ? { listen } : {}) };
}

/** A TF.js denoiser on exported weights (evaluating a torch-trained run with the TF.js sampler). */
function emaDenoiser(net: NetConfig, w: ExportWeights): Denoiser {
  const backbone = paramsFromRecord(w.backbone);
  const adapter = w.adapter ? paramsFromRecord(w.adapter) : undefined;
  return (inp) => forwardModel(net, adapter ? { backbone, adapter } : { backbone }, inp);
}

type Values = {
  task?: string;
  data?: string;
  out?: string;
  method?: string;
  backbone?: string;
  init?: string;
  steps?: string;
  resume?: boolean;
  'reset-ema'?: boolean;
  'run-dir'?: string;
  batch?: string;
  lr?: string;
  ema?: string;
  seed?: string;
  net?: string;
  'distill-steps'?: string;
  'mu-lr-scale'?: string;
  'x-weight'?: string;
  warmup?: string;
  't-sampling'?: string;
  'consistency-space'?: string;
  ode?: string;
  'checkpoint-every'?: string;
  crop?: string;
  name?: string;
  backend?: string;
  eval?: boolean;
  'max-items'?: string;
  residual?: string;
  'text-lr-scale'?: string;
  'residual-scale'?: string;
  'hole-fill'?: string;
  engine?: string;
  processes?: string;
  threads?: string;
  listen?: string;
  precision?: string;
  'grad-checkpointing'?: boolean;
  pack?: string;
};

/** Flags of the project's own trainer that a diffusers-backbone run does not take. */
const NOT_FOR_SD = ['init', 'net', 'crop', 'residual', 'residual-scale', 'eval', 'max-items', 'text-lr-scale', 'warmup', 't-sampling', 'consistency-space', 'ode', 'distill-steps',
  'reset-ema', 'name', 'listen', 'threads', 'backend', 'engine'] as const;

/** `codi train --backbone <diffusers folder>`: a PE-CoDi adapter on an SD-class backbone, trained by PyTorch. */
async function trainSd(v: Values, io: TrainCommandIo): Promise<number> {
  if (v.method !== 'pe-codi') throw new UsageError(`a diffusers backbone (${v.backbone}) trains a PE-CoDi adapter: add --method pe-codi`);
  if (!v.task || !(SD_TASKS as readonly string[]).includes(v.task)) throw new UsageError(`--task must be ${SD_TASKS.join(', ')} for a diffusers backbone`);
  if (!v.data || !v.out) throw new UsageError('--data (an encoded data set: codi encode-dataset) and --out are required');
  // parseArgs fills defaults for some of these; only a value that differs from the default was asked for
  const defaults: Partial<Record<(typeof NOT_FOR_SD)[number], unknown>> = { net: 'default', backend: 'auto', engine: 'tfjs', eval: false, 'reset-ema': false };
  const given = NOT_FOR_SD.filter((k) => v[k] !== undefined && v[k] !== defaults[k] && !(k === 'engine' && (v[k] === 'torch' || v[k] === 'auto')));
  if (given.length) throw new UsageError(`${given.map((k) => `--${k}`).join(', ')}: not used with a diffusers backbone`);
  const precision = v.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'bf16') throw new UsageError(`--precision must be fp32 or bf16, got "${v.precision}"`);
  const probe = findTorchPython();
  if (!probe.ok) {
    io.error(`codi train: a diffusers backbone is trained by PyTorch, and no Python with torch ≥ 1.13 was found (${probe.reason}). Install PyTorch (pip install torch, or apt-get install python3-torch) or set CODI_PYTHON to a Python that has it.`);
    return 1;
  }
  io.log(`engine: PyTorch ${probe.found.torch} via ${probe.found.python}`);
  const opts: SdTrainOptions = { backbone: v.backbone!, data: v.data, task: v.task as SdTask, out: v.out, precision };
  const setNum = (key: keyof SdTrainOptions, flag: keyof Values, int = false) => {
    const n = num(v[flag] as string | undefined, flag, int);
    if (n !== undefined) (opts as unknown as Record<string, number>)[key] = n;
  };
  setNum('steps', 'steps', true);
  setNum('batch', 'batch', true);
  setNum('lr', 'lr');
  setNum('muLrScale', 'mu-lr-scale');
  setNum('ema', 'ema');
  setNum('xWeight', 'x-weight');
  setNum('seed', 'seed', true);
  setNum('checkpointEvery', 'checkpoint-every', true);
  setNum('processes', 'processes', true);
  if (v['run-dir'] !== undefined) opts.runDir = v['run-dir'];
  if (v.pack !== undefined) opts.pack = v.pack;
  if (v.resume) opts.resume = true;
  if (v['grad-checkpointing']) opts.gradCheckpointing = true;
  return runSdTraining(opts, probe.found.python, io);
}

async function train(v: Values, io: TrainCommandIo): Promise<number> {
  if (v.backbone && isDiffusersFolder(v.backbone)) return trainSd(v, io);
  if (v['grad-checkpointing'] || v.pack !== undefined) throw new UsageError('--grad-checkpointing and --pack are for a diffusers --backbone');
  if (!v.data || !v.out) throw new UsageError('--data and --out are required');
  const outDir = v.out;
  const dataDir = v.data;
  const method = trainingMethod.safeParse(v.method);
  if (!method.success) throw new UsageError(`unknown --method "${v.method}"`);
  const m: TrainMethod = method.data;
  const task = v.task ? packTask.safeParse(v.task) : null;
  if (m !== 'pretrain' && (!task || !task.success || task.data === 'backbone')) throw new UsageError('--task must be restore, inpaint, edit, depth or custom');
  const backend = (v.backend ?? 'auto') as BackendPreference;
  if (!['auto', 'wasm', 'cpu'].includes(backend)) throw new UsageError(`unknown --backend "${v.backend}"`);
  const netName = v.net as keyof typeof NET_PRESETS;
  if (!(netName in NET_PRESETS)) throw new UsageError(`unknown --net "${v.net}"`);

  const engine = chooseEngine(v, io);
  await initTrainingBackend({ prefer: backend, log: engine ? () => {} : io.log });

  // 1. starting weights
  let backbonePack: LoadedPack | undefined;
  let initPack: LoadedPack | undefined;
  if (v.backbone) backbonePack = await loadPackForTraining(v.backbone);
  if (v.init) initPack = await loadPackForTraining(v.init);
  if (m === 'cm' && !initPack) throw new UsageError('--method cm needs --init TEACHER_PACK');
  if ((m === 'teacher' || m === 'codi' || m === 'pe-codi') && !backbonePack && !initPack) throw new UsageError(`--method ${m} needs --backbone PACK (or --init PACK)`);
  if (m === 'pe-codi' && !backbonePack) throw new UsageError('--method pe-codi needs --backbone PACK (the adapter pack names it)');
  const net = initPack?.weights.net ?? backbonePack?.weights.net ?? NET_PRESETS[netName];
  const init: InitialWeights = {};
  if (initPack) {
    init.backbone = initPack.weights.backbone;
    if (initPack.weights.adapter) init.adapter = initPack.weights.adapter;
  } else if (backbonePack) {
    init.backbone = backbonePack.weights.backbone;
  }

  // 2. data
  // Inpaint: what the condition carries under the hole, which is also the residual base
  // (core/conditions.ts HoleFill); explicit flag, else inherited from an --init pack.
  const holeFill = v['hole-fill'] ?? initPack?.manifest.holeFill ?? 'zero';
  if (holeFill !== 'zero' && holeFill !== 'telea') throw new UsageError(`--hole-fill must be zero or telea, got "${v['hole-fill']}"`);
  if (holeFill === 'telea' && (!task?.success || task.data !== 'inpaint')) throw new UsageError('--hole-fill telea needs --task inpaint');
  // Edit instructions are embedded with the engine's own featurizer, so training and inference agree.
  const maxItems = num(v['max-items'], 'max-items', true);
  const ds = await readDataset(v.data, {
    unconditional: m === 'pretrain',
    embedText: (text) => instructionFeatures(text, INSTRUCTION_FEATURE_DIM),
    textDim: INSTRUCTION_FEATURE_DIM,
    holeFill,
    ...(maxItems !== undefined ? { maxItems: { train: maxItems, val: maxItems } } : {}),
  });
  if (m !== 'pretrain' && task?.success && ds.meta.task !== task.data) throw new UsageError(`--task ${task.data} but the dataset is a ${ds.meta.task} dataset`);
  const cropPx = num(v.crop, 'crop', true);
  const crop = cropPx ? { h: cropPx / 4, w: cropPx / 4 } : null;
  const data: TrainData = { items: ds.train, geometry: ds.geometry };
  io.log(`data: ${ds.train.length} train / ${ds.val.length} val items, ${ds.meta.size[1]}×${ds.meta.size[0]} px → latent ${ds.geometry.w}×${ds.geometry.h}×${ds.geometry.channels}, condition ${ds.geometry.condChannels} ch`);

  // 3. trainer (fresh or resumed)
  const runDir = v['run-dir'] ?? `${v.out.replace(/[\\/]+$/, '')}.run`;
  const steps = num(v.steps, 'steps', true);
  let trainer: Trainer | TorchTrainer;
  if (v.resume) {
    const overrides = { ...(steps !== undefined ? { steps } : {}), resetEma: v['reset-ema'] === true };
    const t = engine ? await TorchTrainer.resume(runDir, data, overrides, engine) : await Trainer.resume(runDir, data, overrides);
    if (!t) throw new Error(`--resume: no checkpoint in ${runDir}`);
    if (t.config.method !== m) throw new Error(`--resume: the run in ${runDir} is a ${t.config.method} run, not ${m}`);
    if (t.config.holeFill !== holeFill) throw new UsageError(`--resume: the run in ${runDir} was trained with --hole-fill ${t.config.holeFill}; pass the same`);
    trainer = t;
    io.log(`resumed ${runDir} at step ${t.step}`);
  } else {
    const cfg: Partial<TrainConfig> = { method: m, net, crop, holeFill };
    if (steps !== undefined) cfg.steps = steps;
    const batch = num(v.batch, 'batch', true);
    if (batch !== undefined) cfg.batchSize = batch;
    const lr = num(v.lr, 'lr');
    if (lr !== undefined) cfg.optimizer = { ...Trainer.defaults().optimizer, lr };
    const ema = num(v.ema, 'ema');
    if (ema !== undefined) cfg.emaDecay = ema;
    // μ starts at 0 (paper); a larger step size on the scalar μ lets short CPU runs open the condition path.
    const muLrScale = num(v['mu-lr-scale'], 'mu-lr-scale');
    if (muLrScale !== undefined) cfg.muLrScale = muLrScale;
    // Weight of CoDi's ground-truth term d_x (paper and code: 1); larger pulls the one-step
    // prediction toward the posterior mean, which is what PSNR rewards.
    const xWeight = num(v['x-weight'], 'x-weight');
    if (xWeight !== undefined) {
      if (xWeight < 0) throw new UsageError(`--x-weight must be ≥ 0, got "${v['x-weight']}"`);
      cfg.xWeight = xWeight;
    }
    const textLrScale = num(v['text-lr-scale'], 'text-lr-scale');
    if (textLrScale !== undefined) cfg.textLrScale = textLrScale;
    const warmup = num(v.warmup, 'warmup', true);
    if (warmup !== undefined) cfg.warmupSteps = warmup;
    // CoDi/PE-CoDi timesteps: 'shared' per batch (paper default) or 'per-sample' (released code; learns faster in short runs).
    if (v['t-sampling'] !== undefined) {
      if (v['t-sampling'] !== 'shared' && v['t-sampling'] !== 'per-sample') throw new UsageError(`--t-sampling must be shared or per-sample, got "${v['t-sampling']}"`);
      cfg.codi = { ...Trainer.defaults().codi, ...cfg.codi, tSampling: v['t-sampling'] === 'shared' ? 'sharedPerBatch' : 'perSample' };
    }
    // The paper's ablations (docs/method.md §0): consistency on x̂ instead of ε̂ ("without noise
    // consistency") and no PF-ODE step ("without PF-ODE distillation": ẑ_s from the forward process).
    if (v['consistency-space'] !== undefined) {
      if (v['consistency-space'] !== 'eps' && v['consistency-space'] !== 'x') throw new UsageError(`--consistency-space must be eps or x, got "${v['consistency-space']}"`);
      cfg.codi = { ...Trainer.defaults().codi, ...cfg.codi, consistencySpace: v['consistency-space'] };
    }
    if (v.ode !== undefined) {
      if (v.ode !== 'adapted' && v.ode !== 'pretrained' && v.ode !== 'none') throw new UsageError(`--ode must be adapted, pretrained or none, got "${v.ode}"`);
      cfg.codi = { ...Trainer.defaults().codi, ...cfg.codi, odeModel: v.ode };
    }
    const seed = num(v.seed, 'seed', true);
    if (seed !== undefined) cfg.seed = seed;
    // Residual targets (core/residual.ts): explicit flag, else inherited from an --init pack (CM from a residual teacher).
    const residual = v.residual ?? initPack?.manifest.residual ?? 'none';
    if (residual !== 'none' && residual !== 'condition') throw new UsageError(`--residual must be none or condition, got "${v.residual}"`);
    if (residual === 'condition' && (m === 'pretrain' || !task?.success || !residualAllowed(task.data))) throw new UsageError('--residual condition needs a restore, edit, custom or inpaint task');
    cfg.residual = residual;
    const scale = num(v['residual-scale'], '--residual-scale') ?? initPack?.manifest.residualScale ?? 1;
    try {
      checkResidualScale(scale);
    } catch (err) {
      throw new UsageError(`--residual-scale: ${(err as Error).message}`);
    }
    if (scale !== 1 && residual !== 'condition') throw new UsageError('--residual-scale needs --residual condition');
    cfg.residualScale = scale;
    const ds2 = num(v['distill-steps'], 'distill-steps', true);
    if (ds2 !== undefined) cfg.distillSteps = ds2;
    const ce = num(v['checkpoint-every'], 'checkpoint-every', true);
    cfg.checkpointEvery = ce ?? 500;
    trainer = engine ? await TorchTrainer.create(cfg, data, init, runDir, engine) : Trainer.create(cfg, data, init, runDir);
  }
  if (trainer instanceof TorchTrainer) io.log(`torch engine: ${trainer.deviceInfo}`);
  // (a torch run's workers are child processes: they must be closed on every way out)
  try {
    return await trainAndExport(trainer);
  } finally {
    await trainer.dispose();
  }

  async function trainAndExport(trainer: Trainer | TorchTrainer): Promise<number> {
    io.log(`method ${m}: ${trainer.trainableCount()} trainable parameters, ${trainer.config.steps} steps, batch ${trainer.config.batchSize}`);
    trainer.events.on((e) => io.log(formatEvent(e)));
    // The loss of every progress window, kept in the run folder across resumes for the model card.
    const lossFile = path.join(runDir, LOSS_FILE);
    mkdirSync(runDir, { recursive: true });
    trainer.events.on((e) => {
      if (e.type === 'progress') appendFileSync(lossFile, `${JSON.stringify({ step: e.step, loss: e.meanLoss })}\n`);
    });
    const result = await trainer.run(io.signal ? { signal: io.signal } : {});
    if (result.status === 'diverged') {
      io.error(`training diverged at step ${result.step}: ${result.reason}. Nothing exported; the last good checkpoint is in ${runDir}.`);
      return 2;
    }
    if (result.status === 'stopped') {
      io.log(`stopped at step ${result.step}; resume with --resume --run-dir ${runDir}`);
      return 130;
    }

    // 4. optional held-out evaluation, then export
    const metrics: Record<string, number> = {};
    if (v.eval && ds.val.length > 0 && m !== 'pretrain') {
      const model = trainer instanceof Trainer ? trainer.denoisers().ema : emaDenoiser(trainer.config.net, await trainer.exportWeights());
      const distilled = m === 'codi' || m === 'pe-codi' || m === 'cm';
      const r = await evaluateSampling(model, ds.val, ds.geometry, trainer.schedule, { kind: distilled ? 'codi' : 'ddim', steps: 4, distillSteps: trainer.config.distillSteps, residual: trainer.config.residual, residualScale: trainer.config.residualScale });
      metrics[`psnr_${r.kind}_4`] = r.psnr;
      const floor = conditionPsnr(ds.val, ds.geometry);
      if (Number.isFinite(floor)) metrics.psnr_condition = floor;
      io.log(`eval: ${r.kind} 4 steps PSNR ${r.psnr.toFixed(2)} dB on ${ds.val.length} val items${Number.isFinite(floor) ? ` (condition itself: ${floor.toFixed(2)} dB)` : ''}`);
    }
    const w = await trainer.exportWeights();
    const manifest = await writeTrainedPack({
      out: outDir,
      name: v.name ?? packName(outDir),
      task: m === 'pretrain' ? 'backbone' : (ds.meta.task as PackTask),
      method: m,
      net: trainer.config.net,
      schedule: trainer.config.schedule,
      distillSteps: trainer.config.distillSteps,
      backbone: w.backbone,
      ...(w.adapter ? { adapter: w.adapter } : {}),
      condChannels: ds.geometry.condChannels,
      textDim: ds.geometry.textDim,
      upscale: ds.meta.task === 'restore' ? ds.scale : 1,
      residual: trainer.config.residual,
      residualScale: trainer.config.residualScale,
      holeFill: trainer.config.holeFill,
      tile: (crop?.h ?? ds.geometry.h) * 4,
      ...(backbonePack ? { backbonePack } : {}),
      ...(ds.instructions ? { instructions: ds.instructions } : {}),
      training: {
        steps: result.step,
        wallSeconds: result.wallSeconds,
        metrics,
        data: `${path.basename(path.resolve(dataDir))}: ${ds.train.length} train items`,
        sources: sourcesFingerprint(ds.meta.sources),
        engine: trainer instanceof TorchTrainer ? `PyTorch engine (${trainer.deviceInfo})` : 'TensorFlow.js engine',
        lossCurve: readLossCurve(lossFile, result.step),
      },
    });
    io.log(`exported ${manifest.name} → ${outDir} (${manifest.files.map((f) => f.path).join(', ')})`);
    return 0;
  }
}

/** Progress-window losses of a run, one JSON line each, in its run folder. */
export const LOSS_FILE = 'loss.jsonl';

/**
 * The run's loss curve up to `lastStep`: one point per progress window; where a resumed run
 * repeated steps after its last checkpoint, the later line wins.
 */
export function readLossCurve(file: string, lastStep: number): [number, number][] {
  if (!existsSync(file)) return [];
  const byStep = new Map<number, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const { step, loss } = JSON.parse(line) as { step: unknown; loss: unknown };
      if (typeof step === 'number' && typeof loss === 'number' && step <= lastStep) byStep.set(step, loss);
    } catch {
      // a line cut short by a kill: skip it
    }
  }
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]);
}
