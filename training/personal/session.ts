/**
 * One personal-adapter training job, start to finish, driven by a run folder so that it can be
 * paused, killed and resumed at any point:
 *   runDir/job.json       the job (a resume needs only the folder)
 *   runDir/dataset/       the CONVENTIONS dataset written from the pairs (once)
 *   runDir/ckpt/          trainer checkpoints (exact resume)
 *   runDir/history.jsonl  the loss chart, one point per step, cut back to the checkpoint on resume
 *   runDir/state.json     the last phase (and the pack folder when done)
 * Runs in the worker process (worker.ts); `send` carries every message to the parent.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { clampUnit } from '../../core/image/filters.ts';
import { carryEdit } from '../../core/image/gain-offset.ts';
import type { F32Tensor } from '../../core/tensor/ops.ts';
import { nchwToU8Hwc, pixelShuffle, pixelUnshuffle } from '../../core/tensor/layout.ts';
import { Rng } from '../../core/rng.ts';
import { addBase } from '../../core/residual.ts';
import { runSampler } from '../../core/samplers/index.ts';
import { loadPackForTraining, writeTrainedPack } from '../cli/pack-export.ts';
import { readDataset } from '../data/dataset-reader.ts';
import type { LatentDataset } from '../data/dataset-reader.ts';
import { initTrainingBackend } from '../tf/backend.ts';
import { tfOps } from '../tf/tensor-ops-tf.ts';
import { packNhwc, unpackNhwc } from '../trainer/batch-sampler.ts';
import type { LatentItem } from '../trainer/batch-sampler.ts';
import { Trainer } from '../trainer/trainer.ts';
import { preflightPairs, writePairsDataset } from './pairs.ts';
import type { PairDatasetSummary } from './pairs.ts';
import { getPreset } from './presets.ts';
import type { PersonalPreset } from './presets.ts';
import { trainConfigFor } from './train-config.ts';
import type { LossPoint, PersonalJob, PersonalPhase, WorkerMessage } from './protocol.ts';

/** Pause / cancel requests, checked between training steps. */
export interface JobControl {
  readonly aborted: boolean;
  /** What the abort means (pause keeps the run folder, cancel deletes it). */
  readonly reason: 'pause' | 'cancel' | null;
}

export interface JobIo {
  send: (m: WorkerMessage) => void;
  control: JobControl;
}

const PREVIEW_ITEMS = 4;

export const runPaths = (runDir: string) => ({
  job: path.join(runDir, 'job.json'),
  dataset: path.join(runDir, 'dataset'),
  ckpt: path.join(runDir, 'ckpt'),
  history: path.join(runDir, 'history.jsonl'),
  state: path.join(runDir, 'state.json'),
});

/** Read the loss history, keeping only points up to `maxStep` (those past it will be retrained). */
export async function readHistory(runDir: string, maxStep = Number.POSITIVE_INFINITY): Promise<LossPoint[]> {
  const file = runPaths(runDir).history;
  if (!existsSync(file)) return [];
  const pts: LossPoint[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      const p = JSON.parse(line) as LossPoint;
      if (p.step <= maxStep) pts.push(p);
    } catch {
      // a line cut by a kill: everything after it is redone anyway
      break;
    }
  }
  return pts;
}

export async function readJob(runDir: string): Promise<PersonalJob> {
  return JSON.parse(await readFile(runPaths(runDir).job, 'utf8')) as PersonalJob;
}

async function setState(runDir: string, phase: PersonalPhase, extra: Record<string, unknown> = {}): Promise<void> {
  await writeFile(runPaths(runDir).state, `${JSON.stringify({ phase, at: new Date().toISOString(), ...extra })}\n`);
}

/** Write the dataset from the pairs unless an earlier start of this run already did. */
export async function ensureDataset(job: PersonalJob, preset: PersonalPreset): Promise<PairDatasetSummary> {
  const p = runPaths(job.runDir);
  const summaryFile = path.join(p.dataset, 'pairs.json');
  if (existsSync(summaryFile)) return JSON.parse(await readFile(summaryFile, 'utf8')) as PairDatasetSummary;
  const report = await preflightPairs(job.source, { align: job.align, seed: job.seed });
  if (!report.ok) throw new Error(`pairs preflight failed: ${report.problems.filter((x) => x.severity === 'error').map((x) => `${x.file}: ${x.detail}`).join('; ')}`);
  const tmp = `${p.dataset}.tmp`;
  const s = await writePairsDataset(report, tmp, { crop: preset.crop, cropsPerPair: preset.cropsPerPair, valCropsPerPair: preset.valCropsPerPair, seed: job.seed + 1 });
  await rm(p.dataset, { recursive: true, force: true });
  await rename(tmp, p.dataset);
  return s;
}

/** A latent crop as a small PNG data URL (decoded RGBA → PNG, so it crosses any wire as text). */
export async function thumb(latent: Float32Array, h: number, w: number): Promise<string> {
  const img = pixelShuffle({ data: latent, shape: [1, 48, h, w] }, 4);
  const png = await sharp(nchwToU8Hwc(img, 4), { raw: { width: w * 4, height: h * 4, channels: 4 } }).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** The CoDi 4-step sample of each item's condition with `model` (NCHW latents back). */
export async function sampleItems(trainer: Trainer, items: readonly LatentItem[], ds: LatentDataset, seed = 2024, steps = 4): Promise<Float32Array[]> {
  const geo = ds.geometry;
  const B = items.length;
  const model = trainer.denoisers().ema;
  const rng = new Rng(seed);
  const cond = tf.tensor4d(packNhwc(items.map((i) => i.cond!), geo.condChannels, geo.h, geo.w), [B, geo.h, geo.w, geo.condChannels]);
  const noise = tf.tensor4d(rng.fillGaussian(new Float32Array(B * geo.h * geo.w * geo.channels)), [B, geo.h, geo.w, geo.channels]);
  const fn = (z: tf.Tensor, t: number) => tf.tidy(() => model({ z: z as tf.Tensor4D, t: tf.fill<tf.Rank.R1>([B], t, 'float32'), cond }));
  const out = await runSampler('codi', tfOps, fn, noise, trainer.schedule, { steps, distillSteps: trainer.config.distillSteps, rng });
  const data = (await out.data()) as Float32Array;
  tf.dispose([cond, noise, out]);
  const latents = unpackNhwc(data, B, geo.h, geo.w, geo.channels);
  // residual adapters generate x − b: add each item's "before" image back (core/residual.ts)
  return trainer.config.residual === 'condition' ? latents.map((y, i) => addBase({ data: y, shape: [1, geo.channels, geo.h, geo.w] }, { data: items[i]!.cond!, shape: [1, geo.condChannels, geo.h, geo.w] }, trainer.config.residualScale).data) : latents;
}

/**
 * How personal adapters carry their change (manifest `carry`): the mean of CARRY_SAMPLES one-step
 * samples, fitted as a gain/offset field of half the crop's radius. Measured on bench:adapter
 * (Quick, 10 held-out crops): 1 sample / radius 8 px +1.1 dB over the unedited inputs; 8 samples /
 * radius 32 px +3.6 dB. A look is smooth; the samples' own noise is not, and averages out.
 */
export const CARRY_SAMPLES = 8;
export const carryRadius = (crop: number) => Math.max(2, Math.round(crop / 2));

/** The mean of `n` samples of each item (seeds seed…seed+n−1), as sampleItems returns them. */
export async function meanSamples(trainer: Trainer, items: readonly LatentItem[], ds: LatentDataset, n: number, steps: number, seed = 2024): Promise<Float32Array[]> {
  const sums = items.map(() => new Float32Array(ds.geometry.channels * ds.geometry.h * ds.geometry.w));
  for (let k = 0; k < n; k++) {
    const outs = await sampleItems(trainer, items, ds, seed + k, steps);
    outs.forEach((o, i) => o.forEach((v, j) => (sums[i]![j] = (sums[i]![j] as number) + v / n)));
  }
  return sums;
}

/** Item latents → the photo the tool would output: pixels, with the change carried as the engine does. */
function carriedImage(item: LatentItem, out: Float32Array, h: number, w: number, radius: number): F32Tensor {
  const before = pixelShuffle({ data: item.cond!, shape: [1, 48, h, w] }, 4);
  return carryEdit(before, pixelShuffle({ data: out, shape: [1, 48, h, w] }, 4), radius);
}

/** PSNR in [-1, 1] (peak-to-peak 2), the prediction clamped as the engine clamps it. */
function psnrPm1(pred: Float32Array, target: Float32Array): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = clampUnit(pred[i] as number) - (target[i] as number);
    s += d * d;
  }
  return 10 * Math.log10(4 / Math.max(s / pred.length, 1e-12));
}

/**
 * Held-out PSNR of the tool's real output (CoDi sampling, then the gain/offset carry) at 1, 2
 * and 4 steps, and of the unedited inputs. The best step count becomes the pack's default.
 */
export async function heldOutScores(t: Trainer, items: readonly LatentItem[], ds: LatentDataset, radius: number): Promise<{ bySteps: Record<number, number>; unedited: number; best: number }> {
  const { h, w } = ds.geometry;
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const target = items.map((it) => pixelShuffle({ data: it.x, shape: [1, 48, h, w] }, 4).data);
  const unedited = mean(items.map((it, i) => psnrPm1(pixelShuffle({ data: it.cond!, shape: [1, 48, h, w] }, 4).data, target[i]!)));
  const bySteps: Record<number, number> = {};
  for (const steps of [1, 2, 4]) {
    const outs = await meanSamples(t, items, ds, CARRY_SAMPLES, steps);
    bySteps[steps] = mean(items.map((it, i) => psnrPm1(carriedImage(it, outs[i]!, h, w, radius).data, target[i]!)));
  }
  const best = [1, 2, 4].reduce((a, b) => ((bySteps[b] as number) > (bySteps[a] as number) ? b : a));
  return { bySteps, unedited, best };
}

/** The centre crop of each held-out pair (the first crop the writer cuts per val pair). */
function previewItems(ds: LatentDataset, perPair: number): LatentItem[] {
  const out: LatentItem[] = [];
  for (let i = 0; i < ds.val.length && out.length < PREVIEW_ITEMS; i += perPair) out.push(ds.val[i]!);
  return out;
}

/** Run (or resume) the job in `job.runDir` until done, paused, cancelled or failed. */
export async function runPersonalJob(job: PersonalJob, io: JobIo): Promise<PersonalPhase> {
  const p = runPaths(job.runDir);
  const phase = async (ph: PersonalPhase, detail?: string, extra: Record<string, unknown> = {}) => {
    await setState(job.runDir, ph, { ...(detail ? { detail } : {}), ...extra });
    io.send({ type: 'phase', phase: ph, ...(detail ? { detail } : {}) });
  };
  let trainer: Trainer | undefined;
  try {
    await mkdir(job.runDir, { recursive: true });
    if (!existsSync(p.job)) await writeFile(p.job, `${JSON.stringify(job, null, 2)}\n`);
    await phase('preparing');
    const preset = getPreset(job.preset);
    const backend = await initTrainingBackend({ prefer: job.backend ?? 'auto', log: () => {} });
    io.send({ type: 'backend', name: backend.name, why: backend.why });
    const summary = await ensureDataset(job, preset);
    const ds = await readDataset(p.dataset);
    const backbone = await loadPackForTraining(job.backbonePack);
    const data = { items: ds.train, geometry: ds.geometry };
    const steps = job.steps ?? preset.steps;
    trainer = (await Trainer.resume(p.ckpt, data, { steps })) ?? Trainer.create(trainConfigFor(preset, backbone.weights.net, job.seed, steps), data, { backbone: backbone.weights.backbone }, p.ckpt);
    const t = trainer;
    const resumedFrom = t.step;
    // points past the checkpoint are retrained: drop them so the chart has no duplicates and no gap
    const history = await readHistory(job.runDir, resumedFrom);
    await writeFile(p.history, history.map((h) => `${JSON.stringify(h)}\n`).join(''));
    io.send({ type: 'history', points: history, totalSteps: steps, resumedFrom });
    t.events.on((e) => {
      if (e.type !== 'progress') return;
      const point: LossPoint = { step: e.step, losses: e.losses, samplesPerSec: e.samplesPerSec };
      // synchronous, so the file is in step order and a point is on disk before the UI sees it
      appendFileSync(p.history, `${JSON.stringify(point)}\n`);
      io.send({ type: 'progress', step: e.step, totalSteps: e.totalSteps, losses: e.losses, samplesPerSec: e.samplesPerSec, etaSec: e.etaSec });
    });
    await phase('training', resumedFrom > 0 ? `resumed at step ${resumedFrom}` : undefined);
    const previews = previewItems(ds, preset.valCropsPerPair);
    const sendPreview = async () => {
      if (previews.length === 0) return;
      // what the tool will output: one step, the mean change carried onto the photo
      const outs = await meanSamples(t, previews, ds, CARRY_SAMPLES, 1);
      const { h, w } = ds.geometry;
      const radius = carryRadius(summary.crop);
      const items = [];
      for (const [i, it] of previews.entries()) {
        const shown = pixelUnshuffle(carriedImage(it, outs[i]!, h, w, radius), 4).data;
        items.push({ before: await thumb(it.cond!, h, w), output: await thumb(shown, h, w), target: await thumb(it.x, h, w) });
      }
      io.send({ type: 'preview', step: t.step, items });
    };
    let wallSeconds = 0;
    while (t.step < steps) {
      const next = Math.min(steps, (Math.floor(t.step / preset.previewEvery) + 1) * preset.previewEvery);
      const r = await t.run({ untilStep: next, signal: io.control });
      if (r.status === 'diverged') throw new Error(`training diverged at step ${r.step}: ${r.reason}; nothing exported (the last good checkpoint is kept)`);
      wallSeconds = r.wallSeconds;
      if (r.status === 'stopped') break;
      await sendPreview();
    }
    if (io.control.aborted) {
      t.dispose();
      trainer = undefined;
      if (io.control.reason === 'cancel') {
        io.send({ type: 'phase', phase: 'cancelled' });
        await rm(job.runDir, { recursive: true, force: true });
        return 'cancelled';
      }
      await phase('paused', `paused at step ${t.step}`);
      return 'paused';
    }

    await phase('exporting');
    const evalItems = ds.val.length > 0 ? ds.val : ds.train.slice(0, 8);
    const radius = carryRadius(summary.crop);
    const scores = await heldOutScores(t, evalItems, ds, radius);
    const ev = { psnr: scores.bySteps[scores.best] as number };
    const floor = scores.unedited;
    const w = t.exportWeights();
    const packDir = path.join(job.userPacksDir, job.name);
    const partial = path.join(job.userPacksDir, `.${job.name}.partial`);
    await rm(partial, { recursive: true, force: true });
    await writeTrainedPack({
      out: partial,
      name: job.name,
      title: job.title,
      task: 'custom',
      method: 'pe-codi',
      net: t.config.net,
      schedule: t.config.schedule,
      distillSteps: t.config.distillSteps,
      backbone: w.backbone,
      ...(w.adapter ? { adapter: w.adapter } : {}),
      condChannels: ds.geometry.condChannels,
      textDim: 0,
      upscale: 1,
      residual: t.config.residual,
      residualScale: t.config.residualScale,
      carry: { kind: 'gain-offset', radius, samples: CARRY_SAMPLES },
      defaultSteps: scores.best,
      tile: summary.crop,
      backbonePack: backbone,
      training: {
        steps: t.step,
        wallSeconds,
        metrics: { psnr_adapter_heldout: ev.psnr, psnr_unedited_heldout: floor, gain_db: ev.psnr - floor, default_steps: scores.best, psnr_heldout_1_step: scores.bySteps[1]!, psnr_heldout_2_steps: scores.bySteps[2]!, psnr_heldout_4_steps: scores.bySteps[4]! },
        data: `${summary.trainPairs.length} personal before/after pairs for training, ${summary.valPairs.length} held out; ${summary.items.train} train / ${summary.items.val} held-out crops of ${summary.crop} px (align: ${summary.align}); preset ${preset.id}`,
      },
    });
    // the registry lists folders: the pack appears complete or not at all
    await rm(packDir, { recursive: true, force: true });
    await mkdir(job.userPacksDir, { recursive: true });
    await rename(partial, packDir);
    await setState(job.runDir, 'done', { packDir, psnr: ev.psnr, psnrInput: floor });
    io.send({ type: 'done', packDir, packName: job.name, psnr: ev.psnr, psnrInput: floor, steps: t.step, wallSeconds });
    io.send({ type: 'phase', phase: 'done' });
    return 'done';
  } catch (err) {
    const message = (err as Error).message;
    await setState(job.runDir, 'failed', { detail: message }).catch(() => {});
    io.send({ type: 'error', message });
    io.send({ type: 'phase', phase: 'failed', detail: message });
    return 'failed';
  } finally {
    trainer?.dispose();
  }
}
