/**
 * The model rows of the table: installed packs (native-models/, found by task and training
 * method in their manifests) run in-process through the engine's own pieces: PackRegistry
 * verifies and loads the graphs into ONNX Runtime, makeDenoiseFn wires adapter → backbone or the
 * fused denoiser, and the sampler maths comes from core/samplers (nothing re-implemented here).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inpaintCondition, restoreCondition } from '../../core/conditions.ts';
import { innerFeather } from '../../core/image/blend.ts';
import { matchFillColors } from '../../core/image/color-match.ts';
import { greyAtLumaInPlace } from '../../core/image/filters.ts';
import { teleaFill } from '../../core/image/telea.ts';
import { unsharpInPlace } from '../../core/image/unsharp.ts';
import type { Sharpen } from '../../core/image/unsharp.ts';
import { makeSchedule } from '../../core/math/schedule.ts';
import type { TrainingMethod } from '../../core/packs/manifest.ts';
import { Rng } from '../../core/rng.ts';
import { addBase } from '../../core/residual.ts';
import { carryFromWorkingSize, meanOfDraws, workingSize } from '../../core/image/gain-offset.ts';
import { runSampler } from '../../core/samplers/index.ts';
import type { SamplerKind } from '../../core/samplers/index.ts';
import { distinctDraws, drawOf, startTemperature } from '../../core/samplers/start.ts';
import { editCondition } from '../../core/conditions.ts';
import { pixelShuffle } from '../../core/tensor/layout.ts';
import { f32Ops } from '../../core/tensor/ops.ts';
import type { F32Tensor } from '../../core/tensor/ops.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import { PASTE_FEATHER_PX } from '../../electron/engine/pipelines/compose.ts';
import { makeDenoiseFn, startLatent } from '../../electron/engine/pipelines/denoise.ts';
import { INPAINT_MATCH_PX, INPAINT_RING_PX } from '../../electron/engine/pipelines/run.ts';
import { achromaticEditOf } from '../../electron/engine/pipelines/instruction.ts';
import { LATENT_ALIGN } from '../../electron/engine/pipelines/tiled.ts';
import { normalizeInstruction, PackRegistry } from '../../electron/engine/packs/registry.ts';
import type { PackModel, PackRecord } from '../../electron/engine/packs/registry.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { modelToPlanar, planarToModel } from './convert.ts';

export const DEFAULT_PACKS_DIR = fileURLToPath(new URL('../../native-models', import.meta.url));

/** One model row of the restoration table. */
export interface ModelRowSpec {
  label: string;
  method: TrainingMethod;
  /** sampler to use; 'pack' = the pack's own default kind */
  sampler: SamplerKind | 'pack';
  steps: number;
}

/** The issue's rows, in table order. */
export const RESTORE_ROWS: readonly ModelRowSpec[] = [
  { label: 'teacher DDIM 50', method: 'teacher', sampler: 'ddim', steps: 50 },
  { label: 'teacher DDIM 4', method: 'teacher', sampler: 'ddim', steps: 4 },
  { label: 'teacher DPM-Solver++ 4', method: 'teacher', sampler: 'dpmpp-2m', steps: 4 },
  { label: 'CM 4', method: 'cm', sampler: 'pack', steps: 4 },
  { label: 'PE-CoDi 1', method: 'pe-codi', sampler: 'pack', steps: 1 },
  { label: 'PE-CoDi 2', method: 'pe-codi', sampler: 'pack', steps: 2 },
  { label: 'PE-CoDi 4', method: 'pe-codi', sampler: 'pack', steps: 4 },
  { label: 'CoDi 4', method: 'codi', sampler: 'pack', steps: 4 },
];

/** The installed packs, scanned and loadable. */
export interface PackSource {
  registry: PackRegistry;
  records: readonly PackRecord[];
  close(): Promise<void>;
}

/**
 * Where the baseline packs of the table live (teacher, CM, full CoDi): inside the packs folder but
 * in a dot-folder, which the app's registry skips, so users never see them as tools.
 */
export const BASELINES_SUBDIR = '.baselines';

/** Scan a packs folder and its baselines with the engine's registry (hashes are checked when a pack loads). */
export async function openPacks(dir: string = DEFAULT_PACKS_DIR, threads?: number): Promise<PackSource> {
  const runtime = new OrtRuntime({ providers: ['cpu'], ...(threads ? { threads } : {}) });
  const root = path.resolve(dir);
  const registry = new PackRegistry([{ path: root, source: 'bundled' }, { path: path.join(root, BASELINES_SUBDIR), source: 'bundled' }], runtime);
  const records = await registry.scan();
  return { registry, records, close: () => runtime.releaseAll() };
}

/** The usable pack for a task/method (and upscale factor for restore), or why there is none. */
export function findPack(records: readonly PackRecord[], task: 'restore' | 'edit' | 'inpaint', method: TrainingMethod | null, upscale?: number): PackRecord | string {
  const matching = records.filter(
    (r) => r.manifest?.task === task && (method === null || r.manifest.method === method) && (upscale === undefined || r.manifest.upscale === upscale),
  );
  const ok = matching.find((r) => r.status === 'ok');
  if (ok) return ok;
  const what = `${task}${upscale !== undefined ? ` ×${upscale}` : ''} pack${method ? ` with method "${method}"` : ''}`;
  const bad = matching[0];
  return bad ? `the ${what} "${bad.name}" is invalid: ${bad.problem ?? 'unknown problem'}` : `no ${what} installed`;
}

/** Run the pack's denoiser over a condition and decode to an image in [0, 1]. */
async function sampleImage(model: PackModel, cond: F32Tensor, text: Float32Array | null, height: number, width: number, sampler: SamplerKind | 'pack', steps: number, seed: number, negate = false): Promise<PlanarImage> {
  return modelToPlanar(await sampleModelSpace(model, cond, text, height, width, sampler, steps, seed, negate));
}

/**
 * {@link sampleImage} before the clamp to [0, 1]: [1, 3, H, W] in model space. A mean of samples
 * is taken over these, as the engine takes it (native-backend.ts meanOfSamples), and clamped once.
 */
async function sampleModelSpace(model: PackModel, cond: F32Tensor, text: Float32Array | null, height: number, width: number, sampler: SamplerKind | 'pack', steps: number, seed: number, negate = false): Promise<F32Tensor> {
  const m = model.manifest;
  if (m.latent.kind !== 'pixel-unshuffle') throw new Error(`latent codec "${m.latent.kind}" is not supported by the eval harness`);
  const r = m.latent.factor;
  const noise = startLatent(startTemperature(m.sampler), [1, 3 * r * r, height / r, width / r], seed, negate);
  const kind = sampler === 'pack' ? m.sampler.kind : sampler;
  const latent = await runSampler(kind, f32Ops, makeDenoiseFn(model, cond, text), noise, makeSchedule(m.schedule), {
    steps,
    prediction: m.prediction,
    distillSteps: m.sampler.distillSteps ?? 50,
    rng: new Rng(`renoise:${seed}`),
  });
  return pixelShuffle(m.residual === 'condition' ? addBase(latent, cond, m.residualScale) : latent, r);
}

/** Restore one low-res image with a restore pack (output size = input × pack upscale). */
export async function restoreWithPack(model: PackModel, lr: PlanarImage, sampler: SamplerKind | 'pack', steps: number, seed: number): Promise<PlanarImage> {
  return finishRestore(await restoreModelSpace(model, lr, sampler, steps, seed), model.manifest.sharpen);
}

/** {@link restoreWithPack} before the pack's sharpening and the clamp: [1, 3, H, W] in model space. */
export async function restoreModelSpace(model: PackModel, lr: PlanarImage, sampler: SamplerKind | 'pack', steps: number, seed: number): Promise<F32Tensor> {
  const m = model.manifest;
  const s = m.upscale;
  const H = lr.height * s;
  const W = lr.width * s;
  const r = m.latent.factor;
  if (H % (4 * r) !== 0 || W % (4 * r) !== 0) throw new Error(`output ${W}x${H} is not a multiple of ${4 * r} (eval crops must be aligned)`);
  const cond = restoreCondition(planarToModel(lr), H, W, r);
  if (cond.shape[1] !== m.conditionChannels) throw new Error(`pack "${m.name}" expects ${m.conditionChannels} condition channels, restore gives ${cond.shape[1]}`);
  return sampleModelSpace(model, cond, null, H, W, sampler, steps, seed);
}

/** As the engine finishes a restore (native-backend.ts): the unsharp mask where the pack has one, then the clamp. */
export function finishRestore(raw: F32Tensor, sharpen: Sharpen | undefined): PlanarImage {
  if (!sharpen) return modelToPlanar(raw);
  const x = { data: raw.data.slice(), shape: [...raw.shape] };
  unsharpInPlace(x, sharpen);
  return modelToPlanar(x);
}

/** Instructions an edit pack knows (normalised text). */
export function packInstructions(model: PackModel): string[] {
  return model.instructions ? [...model.instructions.entries.keys()] : [];
}

/**
 * Apply an instruction with an edit pack at its default sampler and steps. A pack that carries its
 * change runs as the engine runs it (core/image/gain-offset.ts carryFromWorkingSize): at its
 * working size when the photo is larger, the mean of its samples, carried to the full-size source.
 */
export async function editWithPack(model: PackModel, source: PlanarImage, instruction: string, seed: number, steps?: number): Promise<PlanarImage> {
  const m = model.manifest;
  const emb = model.instructions?.entries.get(normalizeInstruction(instruction));
  if (m.textEmbeddingDim > 0 && !emb) throw new Error(`pack "${m.name}" does not know the instruction "${instruction}"`);
  const x = planarToModel(source);
  const carry = m.carry;
  // as the engine does (native-backend.ts): an edit whose training targets are all grey gives a grey result
  const grey = achromaticEditOf(model.instructions, instruction) !== null;
  if (!carry || steps !== undefined) {
    const out = await sampleImage(model, editCondition(x, m.latent.factor), emb ?? null, source.height, source.width, 'pack', steps ?? m.sampler.steps, seed);
    if (grey) greyAtLumaInPlace({ data: out.data, shape: [1, 3, out.height, out.width] });
    return out;
  }
  const work = workingSize(source.height, source.width, carry.workingSize ?? m.tile.size, m.latent.factor * LATENT_ALIGN);
  const carried = await carryFromWorkingSize(x, work, carry.radius, async (low) => {
    const cond = editCondition(low, m.latent.factor);
    const mean = await meanOfDraws(distinctDraws(startTemperature(m.sampler), m.sampler.steps, carry.samples), async (k) => {
      const d = drawOf(k, m.sampler.antithetic === true);
      return (await sampleModelSpace(model, cond, emb ?? null, work.height, work.width, 'pack', m.sampler.steps, seed + d.seedOffset, d.negate)).data;
    });
    return { data: mean, shape: [...low.shape] };
  }, carry.space);
  if (grey) greyAtLumaInPlace(carried);
  return modelToPlanar(carried);
}

/**
 * Fill the hole of `image` (mask: 1 = fill, row-major) with an inpaint pack at its default sampler
 * and steps, finished as the engine finishes it (electron/engine/pipelines/run.ts, compose.ts):
 * the fill's colours matched to a ring around the hole, then pasted with the same inner feather.
 * Pixels outside the mask are the image's own.
 */
export async function inpaintWithPack(model: PackModel, image: PlanarImage, mask: Float32Array, seed: number): Promise<PlanarImage> {
  const m = model.manifest;
  const { width: W, height: H } = image;
  const r = m.latent.factor;
  if (H % (4 * r) !== 0 || W % (4 * r) !== 0) throw new Error(`image ${W}x${H} is not a multiple of ${4 * r} (eval crops must be aligned)`);
  const x = planarToModel(image);
  if (m.fillSource === 'classic') return pasteInside(image, modelToPlanar(teleaFill(x, { data: mask, shape: [1, 1, H, W] })), innerFeather(mask, W, H, PASTE_FEATHER_PX));
  const cond = inpaintCondition(x, { data: mask, shape: [1, 1, H, W] }, r, m.holeFill ?? 'zero');
  if (cond.shape[1] !== m.conditionChannels) throw new Error(`pack "${m.name}" expects ${m.conditionChannels} condition channels, inpaint gives ${cond.shape[1]}`);
  // the mean of the pack's fillSamples draws (independent or antithetic, core drawOf), as the engine's fill
  const draws = distinctDraws(startTemperature(m.sampler), m.sampler.steps, m.fillSamples ?? 1);
  const gen = {
    data: await meanOfDraws(draws, async (k) => {
      const d = drawOf(k, m.sampler.antithetic === true);
      return (await sampleModelSpace(model, cond, null, H, W, 'pack', m.sampler.steps, seed + d.seedOffset, d.negate)).data;
    }),
    shape: [1, 3, H, W],
  };
  const matched = matchFillColors(gen, x, mask, { ringPx: INPAINT_RING_PX, featherPx: INPAINT_MATCH_PX }).image;
  return pasteInside(image, modelToPlanar(matched), innerFeather(mask, W, H, PASTE_FEATHER_PX));
}

/** The engine's paste (compose.ts pasteFill), on [0, 1] planes: weight 0 keeps the photo's pixel. */
function pasteInside(image: PlanarImage, out: PlanarImage, w: Float32Array): PlanarImage {
  const n = image.width * image.height;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const k = w[i] as number;
      const o = image.data[c * n + i] as number;
      out.data[c * n + i] = k === 0 ? o : o + k * ((out.data[c * n + i] as number) - o);
    }
  }
  return out;
}
