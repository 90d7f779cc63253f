/**
 * CoDi few-step sampling on a diffusers backbone with a CoDi SD adapter pack: each step runs the
 * adapter graph (noisy latent, timestep, text, latent-space condition → the features at every mix
 * point and μ), then the frozen backbone UNet with them (docs/method.md §3.1), and the CoDi
 * deterministic sampler of §7.1 on the backbone's discrete schedule (core/samplers, ε or v
 * output converted to x̂/ε̂, the c_skip/c_out of §5). The latent-space conditions are defined once
 * here ({@link codiCondition}) for the engine and for `codi encode-dataset`.
 */
import { makeSchedule } from '../../../core/math/schedule.ts';
import { Rng } from '../../../core/rng.ts';
import { runSampler } from '../../../core/samplers/index.ts';
import type { AbortSignalLike, DenoiseFn } from '../../../core/samplers/index.ts';
import { f32Ops } from '../../../core/tensor/ops.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import { crop, padToMultiple, shape4 } from '../../../core/tensor/layout.ts';
import { resizeBicubic } from '../../../core/image/resize.ts';
import type { PackManifest } from '../../../core/packs/manifest.ts';
import type { OrtTensorIn } from '../ort.ts';
import { PackError } from '../packs/verify.ts';
import type { CodiAdapterEntry, DiffusersSidecar } from './config.ts';
import type { CodiTask } from './codi-adapter.ts';
import type { DiffusersGraph, SessionFactory } from './sessions.ts';
import { loadGraph, readPackHead } from './sessions.ts';
import { clampUnit, concatC, downMask, encodePrompts, feed, pixelAlign, randn, tensor, vaeDecode, vaeEncode } from './pipeline.ts';
import type { DiffusersPipelineModel, DiffusersProgress, VaeTiling } from './pipeline.ts';

/** A loaded CoDi SD adapter pack, bound to the backbone pipeline it was pinned to. */
export interface CodiAdapterModel {
  root: string;
  manifest: PackManifest;
  sidecar: DiffusersSidecar;
  entry: CodiAdapterEntry;
  graph: DiffusersGraph;
}

/** Load an adapter pack; refuses it unless it was pinned to exactly this backbone's UNet. */
export async function loadCodiAdapter(dir: string, factory: SessionFactory, backbone: DiffusersPipelineModel): Promise<CodiAdapterModel> {
  const { root, manifest, sidecar } = await readPackHead(dir);
  const entry = sidecar.codiAdapter;
  if (sidecar.kind !== 'codi-adapter' || !entry) throw new PackError(`"${manifest.name}" is not a CoDi SD adapter pack`);
  const unetFile = backbone.manifest.files.find((f) => f.path === backbone.sidecar.unet?.path);
  if (!manifest.backbone || manifest.backbone.pack !== backbone.manifest.name || manifest.backbone.sha256 !== unetFile?.sha256) {
    throw new PackError(`"${manifest.name}" was trained on backbone "${manifest.backbone?.pack ?? '?'}" (UNet sha256 ${manifest.backbone?.sha256.slice(0, 12) ?? '?'}…), not on this version of "${backbone.manifest.name}"`);
  }
  const want = backbone.sidecar.unet?.adapter;
  if (!want || want.features.join() !== entry.features.join() || want.mu !== entry.mu) {
    throw new PackError(`the backbone UNet of "${backbone.manifest.name}" does not take this adapter's ${entry.features.length} features and μ`);
  }
  return { root, manifest, sidecar, entry, graph: await loadGraph(root, manifest, entry, factory) };
}

/** What a condition is built from; images [1,3,H,W] in [-1,1], the mask [1,1,H,W] with 1 = hole. */
export type CodiConditionInput =
  | { task: 'inpaint'; image: F32Tensor; mask: F32Tensor }
  | { task: 'restore'; lowRes: F32Tensor; height: number; width: number }
  | { task: 'edit'; source: F32Tensor };

/**
 * The latent-space condition of a task, [1, Cc, H/f, W/f] (latents × the VAE's scaling factor):
 * inpaint: latent of image·(1 − mask) and the mask averaged to latent size (5 channels);
 * restore: latent of the degraded image resized (bicubic) to the output size (4);
 * edit: latent of the source image (4). Sizes must be multiples of the VAE factor.
 */
export async function codiCondition(model: DiffusersPipelineModel, input: CodiConditionInput, options: { tiling?: VaeTiling; signal?: AbortSignalLike } = {}): Promise<F32Tensor> {
  const f = model.sidecar.vae?.factor ?? 8;
  switch (input.task) {
    case 'inpaint': {
      const [, , H, W] = shape4(input.image);
      const plane = H * W;
      const m = input.mask.data;
      const masked = { data: input.image.data.map((v, i) => v * (1 - (m[i % plane] as number))), shape: [...input.image.shape] };
      return concatC([await vaeEncode(model, masked, options), downMask(input.mask, f)]);
    }
    case 'restore': {
      const [, , h, w] = shape4(input.lowRes);
      const up = h === input.height && w === input.width ? input.lowRes : clampUnit(resizeBicubic(input.lowRes, input.height, input.width));
      return vaeEncode(model, up, options);
    }
    case 'edit':
      return vaeEncode(model, input.source, options);
  }
}

/** One CoDi run. Images are [1,3,H,W] in [-1,1]. */
export interface CodiRequest {
  task: CodiTask;
  /** inpaint: the image to fill; restore: the degraded input; edit: the source. */
  image: F32Tensor;
  /** inpaint: 1 = fill. */
  mask?: F32Tensor;
  /** restore: output scale (the output is image size × scale). Default 1. */
  scale?: number;
  /** edit: the instruction (through the pack's tokenizer and text encoder). */
  instruction?: string;
  steps: number;
  seed: number;
  vaeTiling?: VaeTiling;
  signal?: AbortSignalLike;
  onProgress?(p: DiffusersProgress): void;
}

/**
 * Generate with a CoDi adapter on its backbone. Returns [1,3,H,W] in [-1,1] at the output size;
 * for inpaint every pixel outside the mask is the input's own. Deterministic for a seed.
 */
export async function codiGenerate(model: DiffusersPipelineModel, adapter: CodiAdapterModel, req: CodiRequest): Promise<F32Tensor> {
  const spec = model.sidecar.scheduler;
  if (!spec || spec.prediction === 'x') throw new PackError(`"${model.manifest.name}" has no ε- or v-prediction scheduler config`);
  const entry = adapter.entry;
  if (req.task !== entry.task) throw new PackError(`"${adapter.manifest.name}" is a ${entry.task} adapter, not ${req.task}`);
  const max = adapter.manifest.sampler.maxSteps;
  if (!Number.isInteger(req.steps) || req.steps < 1 || req.steps > max) throw new RangeError(`${adapter.manifest.name} runs 1 to ${max} steps, not ${req.steps}`);
  const sched = makeSchedule(spec.schedule);
  const f = model.sidecar.vae?.factor ?? 8;
  const latentC = model.sidecar.vae?.latentChannels ?? 4;
  const align = pixelAlign(model);
  const progress = req.onProgress ?? (() => {});
  const signal = req.signal;
  const vaeOpts = { ...(req.vaeTiling ? { tiling: req.vaeTiling } : {}), ...(signal ? { signal } : {}) };

  // --- the canvas at output size, padded to the UNet's grid
  const [, , h0, w0] = shape4(req.image);
  const s = req.task === 'restore' ? (req.scale ?? 1) : 1;
  const H0 = h0 * s;
  const W0 = w0 * s;
  const padded = padToMultiple(req.task === 'restore' && s !== 1 ? clampUnit(resizeBicubic(req.image, H0, W0)) : req.image, align, 'reflect').tensor;
  const [, , Hp, Wp] = shape4(padded);
  let mask: F32Tensor | null = null;
  if (req.task === 'inpaint') {
    if (!req.mask) throw new RangeError('inpainting needs a mask');
    mask = padToMultiple(req.mask, align, 'edge').tensor;
  }

  progress({ stage: 'encoding' });
  const input: CodiConditionInput =
    req.task === 'inpaint' ? { task: 'inpaint', image: padded, mask: mask! } : req.task === 'restore' ? { task: 'restore', lowRes: padded, height: Hp, width: Wp } : { task: 'edit', source: padded };
  const condition = await codiCondition(model, input, vaeOpts);
  if (condition.shape[1] !== entry.conditionChannels) throw new PackError(`the ${req.task} condition has ${condition.shape[1]} channels but the adapter takes ${entry.conditionChannels}`);
  if (req.task === 'edit' && !req.instruction?.trim()) throw new RangeError('an instruction edit needs an instruction');
  // Inpaint and restore adapters are trained on the empty prompt; edit on the instruction.
  const [ehs] = await encodePrompts(model, [req.task === 'edit' ? req.instruction!.trim() : '']);

  const h = Hp / f;
  const w = Wp / f;
  const noise = randn([1, latentC, h, w], new Rng(req.seed));
  const timestep = (t: number): OrtTensorIn => ({ data: Float32Array.of(t), dims: [1] });
  const denoise: DenoiseFn<F32Tensor> = async (z, t) => {
    const shared = { sample: feed(z), timestep: timestep(t), encoder_hidden_states: feed(ehs!) };
    const a = await adapter.graph.run({ ...shared, [entry.conditionName]: feed(condition) });
    const feeds: Record<string, OrtTensorIn> = { ...shared };
    for (const name of [...entry.features, entry.mu]) feeds[name] = a[name]!;
    return tensor((await model.unet.run(feeds)).out_sample!);
  };

  progress({ stage: 'sampling', step: 0, steps: req.steps });
  const latent = await runSampler('codi', f32Ops, denoise, noise, sched, {
    steps: req.steps,
    distillSteps: entry.distillSteps,
    prediction: spec.prediction,
    ...(signal ? { signal } : {}),
    onStep: (i, n) => progress({ stage: 'sampling', step: i + 1, steps: n }),
  });

  progress({ stage: 'decoding' });
  let out = await vaeDecode(model, latent, vaeOpts);
  if (mask) {
    // Pixels outside the mask are the input's own, not a VAE round trip.
    const plane = Hp * Wp;
    out = { data: out.data.map((v, i) => (mask.data[i % plane]! >= 0.5 ? v : padded.data[i]!)), shape: [...out.shape] };
  }
  return crop(out, 0, 0, H0, W0);
}
