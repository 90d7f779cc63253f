/**
 * Turn a finished run into a model pack with engineer C's exporter: ONNX graph(s) from the
 * EMA weights, train-weights.bin, MODEL_CARD.md and a validated manifest.json.
 *   pretrain → backbone pack (backbone.onnx)
 *   pe-codi  → adapter pack (adapter.onnx) naming its backbone pack by sha256
 *   teacher / codi / cm → denoiser pack (denoiser.onnx, backbone and adapter fused)
 */
import type { HoleFill } from '../../core/conditions.ts';
import type { ResidualMode } from '../../core/residual.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NetConfig } from '../../core/nn/config.ts';
import { instructionFeatures } from '../../core/text/instruction-features.ts';
import type { KnownInstruction } from '../../core/text/instruction-features.ts';
import { parseManifest } from '../../core/packs/manifest.ts';
import type { FileRole, NoiseScheduleSpec, PackManifest, PackTask, SamplerDefaults } from '../../core/packs/manifest.ts';
import { achromaticEdits } from '../data/edits.ts';
import { exportOnnx, writeFileAtomic } from '../export/export-onnx.ts';
import { writePack } from '../export/pack.ts';
import type { ParamRecord } from '../model/network.ts';
import type { TrainMethod } from '../trainer/trainer.ts';
import { encodeTrainWeights, readTrainWeightsFile, TRAIN_WEIGHTS_FILE } from './train-weights.ts';
import type { TrainWeights } from './train-weights.ts';

/** A pack read back for further training. */
export interface LoadedPack {
  dir: string;
  manifest: PackManifest;
  weights: TrainWeights;
}

export async function loadPackForTraining(dir: string): Promise<LoadedPack> {
  const manifest = parseManifest(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  const entry = manifest.files.find((f) => f.path === TRAIN_WEIGHTS_FILE);
  if (!entry) throw new Error(`pack ${dir} has no ${TRAIN_WEIGHTS_FILE}: it cannot seed training`);
  const weights = await readTrainWeightsFile(path.join(dir, TRAIN_WEIGHTS_FILE));
  return { dir, manifest, weights };
}

export interface PackExportOptions {
  out: string;
  name: string;
  title?: string;
  task: PackTask;
  method: TrainMethod;
  net: NetConfig;
  schedule: NoiseScheduleSpec;
  distillSteps: number;
  /** EMA weights (PE-CoDi: the frozen backbone + EMA adapter). */
  backbone: ParamRecord;
  adapter?: ParamRecord;
  condChannels: number;
  textDim: number;
  upscale: number;
  /** Carry the change as a gain/offset field (manifest `carry`); absent = direct output. */
  carry?: { kind: 'gain-offset'; radius: number; samples: number };
  /** Default sampler steps when measured better than the method's default (1–4). */
  defaultSteps?: number;
  /** Residual targets (core/residual.ts); default 'none'. */
  residual?: ResidualMode;
  /** k of y = k·(x − b) (core/residual.ts); default 1. */
  residualScale?: number;
  /** Inpaint: what the condition carries under the hole (manifest `holeFill`); default 'zero'. */
  holeFill?: HoleFill;
  /** Pixel tile for inference (the training crop size). */
  tile: number;
  /** PE-CoDi: the backbone pack the adapter applies to. */
  backbonePack?: LoadedPack;
  /** Packs that take text (textDim > 0): the instruction wordings the model was trained on. */
  instructions?: readonly KnownInstruction[];
  training: {
    steps: number;
    wallSeconds: number;
    metrics?: Record<string, number>;
    data?: string;
    /** sha256 of the data set's source list (training/data/sources-fingerprint.ts) */
    sources?: string;
    /** which engine trained it (model card) */
    engine?: string;
    /** [step, mean loss of the progress window ending there] (model card; not in the manifest) */
    lossCurve?: [number, number][];
  };
}

function samplerFor(method: TrainMethod, distillSteps: number): SamplerDefaults {
  switch (method) {
    case 'codi':
    case 'pe-codi':
    case 'cm':
      return { kind: 'codi', steps: 4, maxSteps: 8, distillSteps };
    case 'pretrain':
    case 'teacher':
      return { kind: 'ddim', steps: 50, maxSteps: 1000 };
  }
}

function modelCard(o: PackExportOptions, files: string[]): string {
  const m = o.training.metrics ?? {};
  const metrics = Object.entries(m).map(([k, v]) => `| ${k} | ${Number.isFinite(v) ? v.toFixed(3) : String(v)} |`);
  return [
    `# ${o.title ?? o.name}`,
    '',
    `Task: ${o.task}. Method: ${o.method}. Trained with CoDi Studio's trainer (training/), ${o.training.engine ?? 'TensorFlow.js engine'}.`,
    '',
    `- Files: ${files.join(', ')}`,
    `- Network: base ${o.net.baseChannels} channels, levels ×[${o.net.channelMult.join(', ')}], ${o.net.resBlocks} res block(s)/level`,
    ...(o.textDim > 0
      ? [`- Instructions: ${o.textDim}-wide hashed word/trigram features, projected into the time embedding and into a FiLM (per-channel scale and shift) of the condition embedding and of every adapter level, and gating a direct output path (a per-pixel colour map of the source photo added to v)`]
      : []),
    `- Schedule: ${o.schedule.kind}, T = ${o.schedule.trainSteps}; v-prediction; latent pixel-unshuffle ×4`,
    ...(o.task === 'inpaint' && o.holeFill === 'telea' && o.residual === 'condition'
      ? ['- Residual base: the classic Telea fill of the hole (core/image/telea.ts); the model generates the change over it']
      : []),
    `- Steps: ${o.training.steps}, wall time ${o.training.wallSeconds.toFixed(0)} s`,
    o.training.data ? `- Data: ${o.training.data}` : '',
    '',
    metrics.length ? ['| metric | value |', '|---|---|', ...metrics].join('\n') : '',
    '',
    ...lossSection(o.training.lossCurve ?? []),
    'Exported weights are the EMA of the trained parameters.',
    '',
  ].join('\n');
}

/** The loss curve at up to 12 evenly spaced progress windows (first and last included). */
function lossSection(curve: readonly [number, number][]): string[] {
  if (curve.length === 0) return [];
  const k = Math.min(12, curve.length);
  const picks = [...new Set(Array.from({ length: k }, (_, i) => Math.round((i * (curve.length - 1)) / Math.max(1, k - 1))))];
  return ['Training loss (mean over each progress window):', '', '| step | loss |', '|---:|---:|', ...picks.map((i) => `| ${curve[i]![0]} | ${curve[i]![1].toFixed(4)} |`), ''];
}

export const INSTRUCTION_TABLE_FILE = 'instructions.json';
/** Name of the text featurizer of core/text/instruction-features.ts (hashed words + trigrams). */
export const INSTRUCTION_FEATURIZER = 'hashed-trigram-v1';

/**
 * The pack's instruction table. `featurizer`/`dim`/`known` let the engine embed ANY text with
 * instructionFeatures and judge it with matchInstruction (known vs unfamiliar, nearest
 * wordings); `instructions` (text + its feature vector) is the exact-lookup form the engine's
 * current table parser reads, so the pack works with both. `achromatic` lists the known edits
 * whose training targets are all grey (training/data/edits.ts achromaticEdits): the engine makes
 * their results grey.
 */
export function instructionTable(known: readonly KnownInstruction[], dim: number): string {
  const grey = new Set<string>(achromaticEdits());
  const table = {
    featurizer: INSTRUCTION_FEATURIZER,
    dim,
    known: known.map((k) => ({ text: k.text, edit: k.edit })),
    achromatic: [...new Set(known.map((k) => k.edit))].filter((e) => grey.has(e)),
    instructions: known.map((k) => ({ text: k.text, embedding: Array.from(instructionFeatures(k.text, dim), (v) => Number(v.toFixed(7))) })),
  };
  return `${JSON.stringify(table)}\n`;
}

/** Export graphs + training weights and write the manifest. Returns the validated manifest. */
export async function writeTrainedPack(o: PackExportOptions): Promise<PackManifest> {
  const kind = o.method === 'pretrain' ? 'backbone' : o.method === 'pe-codi' ? 'adapter' : 'denoiser';
  const exported = await exportOnnx(o.out, o.net, { backbone: o.backbone, ...(o.adapter ? { adapter: o.adapter } : {}) }, [kind]);
  await writeFileAtomic(
    path.join(o.out, TRAIN_WEIGHTS_FILE),
    encodeTrainWeights({ net: o.net, backbone: o.backbone, ...(o.adapter ? { adapter: o.adapter } : {}) }),
  );
  let backboneRef: { pack: string; sha256: string } | undefined;
  if (kind === 'adapter') {
    const bp = o.backbonePack;
    if (!bp) throw new Error('a PE-CoDi adapter pack needs its backbone pack');
    const bfile = bp.manifest.files.find((f) => f.role === 'backbone');
    if (!bfile) throw new Error(`pack ${bp.dir} has no backbone file`);
    backboneRef = { pack: bp.manifest.name, sha256: bfile.sha256 };
  }
  const files: { path: string; role: FileRole }[] = [...exported.map((e) => ({ path: e.path, role: e.role })), { path: TRAIN_WEIGHTS_FILE, role: 'other' }];
  if (kind !== 'backbone' && o.textDim > 0) {
    if (!o.instructions || o.instructions.length === 0) throw new Error('a pack that takes text needs the instruction wordings it was trained on');
    await writeFileAtomic(path.join(o.out, INSTRUCTION_TABLE_FILE), instructionTable(o.instructions, o.textDim));
    files.push({ path: INSTRUCTION_TABLE_FILE, role: 'instruction-table' });
  }
  return writePack(o.out, {
    manifest: {
      name: o.name,
      version: '0.1.0',
      title: o.title ?? `${o.task} (${o.method})`,
      task: kind === 'backbone' ? 'backbone' : o.task,
      method: o.method,
      prediction: 'v',
      schedule: o.schedule,
      sampler: { ...samplerFor(o.method, o.distillSteps), ...(o.defaultSteps !== undefined ? { steps: o.defaultSteps } : {}) },
      ...(o.carry ? { carry: o.carry } : {}),
      latent: { kind: 'pixel-unshuffle', factor: 4 },
      conditionChannels: kind === 'backbone' ? 0 : o.condChannels,
      textEmbeddingDim: kind === 'backbone' ? 0 : o.textDim,
      residual: kind === 'backbone' ? 'none' : (o.residual ?? 'none'),
      ...(kind !== 'backbone' && o.residual === 'condition' && (o.residualScale ?? 1) !== 1 ? { residualScale: o.residualScale } : {}),
      ...(o.task === 'inpaint' && kind !== 'backbone' && o.holeFill === 'telea' ? { holeFill: o.holeFill } : {}),
      upscale: o.upscale,
      tile: { size: o.tile, overlap: Math.min(o.tile / 4, 16) },
      ...(backboneRef ? { backbone: backboneRef } : {}),
      training: { steps: o.training.steps, wallSeconds: o.training.wallSeconds, ...(o.training.metrics ? { metrics: o.training.metrics } : {}), ...(o.training.data !== undefined ? { data: o.training.data } : {}), ...(o.training.sources ? { sources: o.training.sources } : {}) },
    },
    files,
    modelCard: modelCard(o, files.map((f) => f.path)),
  });
}
