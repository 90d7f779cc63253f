/**
 * Stable-Diffusion-class generation over a diffusers ONNX pack: CLIP text encoding (cond and
 * uncond), the sampler loop from core/samplers with the pack's scheduler (ε or v, spacing),
 * batched classifier-free guidance, InstructPix2Pix dual guidance (3 branches), img2img and
 * inpainting (9-channel UNet, or latent masking on a plain UNet), ControlNet / PE-CoDi adapter
 * residuals into a shared backbone UNet, tiled VAE encode/decode with the latent scaling
 * factor, and an optional tiny decoder for previews. Images are NCHW float32 in [-1, 1].
 */
import { makeSchedule } from '../../../core/math/schedule.ts';
import type { Schedule } from '../../../core/math/schedule.ts';
import { predictXEps } from '../../../core/math/parameterization.ts';
import { Rng } from '../../../core/rng.ts';
import { runSampler, AbortError } from '../../../core/samplers/index.ts';
import type { AbortSignalLike, DenoiseFn, SamplerKind } from '../../../core/samplers/index.ts';
import { ddimTimesteps, lcmTimesteps } from '../../../core/samplers/timesteps.ts';
import { f32Ops } from '../../../core/tensor/ops.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import { crop, padToMultiple, shape4 } from '../../../core/tensor/layout.ts';
import { clampUnitInPlace } from '../../../core/image/filters.ts';
import { resizeBicubic } from '../../../core/image/resize.ts';
import { planTiles } from '../../../core/tiling/plan.ts';
import { TileAccumulator } from '../../../core/tiling/blend.ts';
import { mapTiles } from '../../../core/tiling/run.ts';
import type { PackManifest } from '../../../core/packs/manifest.ts';
import type { OrtTensorIn } from '../ort.ts';
import { PackError } from '../packs/verify.ts';
import type { DiffusersSidecar, SchedulerSpec } from './config.ts';
import type { DiffusersGraph, SessionFactory } from './sessions.ts';
import { loadGraph, loadTokenizer, readPackHead } from './sessions.ts';
import type { ClipTokenizer } from './tokenizer.ts';

/** A loaded pipeline pack. */
export interface DiffusersPipelineModel {
  root: string;
  manifest: PackManifest;
  sidecar: DiffusersSidecar;
  tokenizer: ClipTokenizer;
  textEncoder: DiffusersGraph;
  unet: DiffusersGraph;
  vaeEncoder: DiffusersGraph | null;
  vaeDecoder: DiffusersGraph;
  vaeDecoderTiny: DiffusersGraph | null;
}

/** A loaded ControlNet / PE-CoDi adapter pack, bound to the backbone pack it was pinned to. */
export interface ControlNetModel {
  root: string;
  manifest: PackManifest;
  sidecar: DiffusersSidecar;
  graph: DiffusersGraph;
}

/** Load (verified) the graphs and tokenizer of a pipeline pack. */
export async function loadDiffusersPipeline(dir: string, factory: SessionFactory): Promise<DiffusersPipelineModel> {
  const { root, manifest, sidecar } = await readPackHead(dir);
  if (sidecar.kind !== 'pipeline' || !sidecar.unet || !sidecar.textEncoder || !sidecar.vaeDecoder) throw new PackError(`"${manifest.name}" is not a diffusers pipeline pack`);
  const g = (e: { path: string; externalData: string[] }) => loadGraph(root, manifest, e, factory);
  return {
    root,
    manifest,
    sidecar,
    tokenizer: await loadTokenizer(root, manifest, sidecar),
    textEncoder: await g(sidecar.textEncoder),
    unet: await g(sidecar.unet),
    vaeEncoder: sidecar.vaeEncoder ? await g(sidecar.vaeEncoder) : null,
    vaeDecoder: await g(sidecar.vaeDecoder),
    vaeDecoderTiny: sidecar.vaeDecoderTiny ? await g(sidecar.vaeDecoderTiny) : null,
  };
}

/** Load a ControlNet pack; refuses it unless it was pinned to exactly this backbone's UNet. */
export async function loadControlNet(dir: string, factory: SessionFactory, backbone: DiffusersPipelineModel): Promise<ControlNetModel> {
  const { root, manifest, sidecar } = await readPackHead(dir);
  if (sidecar.kind !== 'controlnet' || !sidecar.controlnet) throw new PackError(`"${manifest.name}" is not a ControlNet pack`);
  const unetFile = backbone.manifest.files.find((f) => f.path === backbone.sidecar.unet?.path);
  if (!manifest.backbone || manifest.backbone.pack !== backbone.manifest.name || manifest.backbone.sha256 !== unetFile?.sha256) {
    throw new PackError(`"${manifest.name}" was made for backbone "${manifest.backbone?.pack ?? '?'}", not this version of "${backbone.manifest.name}"`);
  }
  const want = backbone.sidecar.unet!.residuals;
  if (want.down.length !== sidecar.controlnet.residuals.down.length || want.mid === null) {
    throw new PackError(`the backbone UNet of "${backbone.manifest.name}" does not take this ControlNet's residuals`);
  }
  return { root, manifest, sidecar, graph: await loadGraph(root, manifest, sidecar.controlnet, factory) };
}

// ---------------------------------------------------------------- small tensor helpers

export const feed = (t: F32Tensor): OrtTensorIn => ({ data: t.data, dims: t.shape });
export const tensor = (o: OrtTensorIn): F32Tensor => ({ data: o.data, shape: [...o.dims] });

/** Stack tensors of equal shape [1, …] (or [n, …]) along the batch axis. */
function batch(parts: readonly F32Tensor[]): F32Tensor {
  const rest = parts[0]!.shape.slice(1);
  const n = parts.reduce((a, p) => a + p.shape[0]!, 0);
  const out = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p.data, o);
    o += p.data.length;
  }
  return { data: out, shape: [n, ...rest] };
}

/** Item i of a batch. */
function item(x: F32Tensor, i: number): F32Tensor {
  const per = x.data.length / x.shape[0]!;
  return { data: x.data.slice(i * per, (i + 1) * per), shape: [1, ...x.shape.slice(1)] };
}

/** Concatenate [1, C_k, h, w] tensors along channels. */
export function concatC(parts: readonly F32Tensor[]): F32Tensor {
  const [, , h, w] = shape4(parts[0]!);
  const C = parts.reduce((a, p) => a + p.shape[1]!, 0);
  const out = new Float32Array(C * h * w);
  let o = 0;
  for (const p of parts) {
    out.set(p.data, o);
    o += p.data.length;
  }
  return { data: out, shape: [1, C, h, w] };
}

const zerosOf = (shape: number[]): F32Tensor => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });

export function randn(shape: number[], rng: Rng): F32Tensor {
  return { data: rng.fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape };
}

export function clampUnit(x: F32Tensor): F32Tensor {
  return { data: clampUnitInPlace(x.data.slice()), shape: [...x.shape] };
}

/** Area-average a [1,1,H,W] mask down by `f` (latent mask for inpainting). */
export function downMask(mask: F32Tensor, f: number): F32Tensor {
  const [, , H, W] = shape4(mask);
  const h = H / f;
  const w = W / f;
  const out = new Float32Array(h * w);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = Math.floor(y / f) * w + Math.floor(x / f); // < h·w, as y < h·f and x < w·f
      out[o] = (out[o] as number) + (mask.data[y * W + x] as number) / (f * f);
    }
  }
  return { data: out, shape: [1, 1, h, w] };
}

// ---------------------------------------------------------------- text

/** last_hidden_state [1, L, D] for each prompt, as one batched call. */
export async function encodePrompts(model: DiffusersPipelineModel, prompts: readonly string[]): Promise<F32Tensor[]> {
  const L = model.tokenizer.maxLength;
  const ids = new Float32Array(prompts.length * L);
  prompts.forEach((p, i) => ids.set(model.tokenizer.encode(p).ids, i * L));
  const out = await model.textEncoder.run({ input_ids: { data: ids, dims: [prompts.length, L] } });
  const h = out.last_hidden_state;
  if (!h) throw new Error('the text encoder returned no last_hidden_state');
  return prompts.map((_, i) => item(tensor(h), i));
}

// ---------------------------------------------------------------- VAE

/** VAE tile options in pixels (the decoder/encoder run per tile above this size). */
export interface VaeTiling {
  tile: number;
  overlap: number;
}
const DEFAULT_VAE_TILING: VaeTiling = { tile: 512, overlap: 64 };

function vaeFactor(model: DiffusersPipelineModel): number {
  return model.sidecar.vae?.factor ?? 8;
}
function vaeScale(model: DiffusersPipelineModel): number {
  return model.sidecar.vae?.scalingFactor ?? 0.18215;
}

/** Image [1,3,H,W] (H, W multiples of the VAE factor) → latent [1,C,H/f,W/f], × scaling factor when `scaled`. */
export async function vaeEncode(model: DiffusersPipelineModel, image: F32Tensor, options: { tiling?: VaeTiling; signal?: AbortSignalLike; scaled?: boolean } = {}): Promise<F32Tensor> {
  const enc = model.vaeEncoder;
  if (!enc) throw new PackError(`"${model.manifest.name}" has no vae_encoder; it cannot edit existing images`);
  const f = vaeFactor(model);
  const [, , H, W] = shape4(image);
  if (H % f || W % f) throw new RangeError(`image size ${W}×${H} is not a multiple of ${f}`);
  const { tile, overlap } = options.tiling ?? DEFAULT_VAE_TILING;
  const run = async (x: F32Tensor) => tensor((await enc.run({ sample: feed(x) })).latent_sample!);
  let lat: F32Tensor;
  if (H <= tile && W <= tile) lat = await run(image);
  else {
    // Tiles are planned on the latent grid so every tile maps to whole latent pixels.
    const plan = planTiles({ height: H / f, width: W / f, tile: Math.floor(tile / f), overlap: Math.floor(overlap / f), align: 1 });
    let acc: TileAccumulator | null = null;
    for (const r of plan.tiles) {
      if (options.signal?.aborted) throw new AbortError();
      const out = await run(crop(image, r.y * f, r.x * f, r.h * f, r.w * f));
      acc ??= new TileAccumulator(plan, out.shape[1]!, 1);
      acc.add(r, out);
    }
    lat = acc!.result();
  }
  return options.scaled === false ? lat : f32Ops.scale(lat, vaeScale(model));
}

/** Scaled latent [1,C,h,w] → image [1,3,h·f,w·f] in [-1, 1]; `tiny` uses the preview decoder. */
export async function vaeDecode(model: DiffusersPipelineModel, latent: F32Tensor, options: { tiling?: VaeTiling; signal?: AbortSignalLike; tiny?: boolean } = {}): Promise<F32Tensor> {
  const useTiny = options.tiny === true && model.vaeDecoderTiny !== null;
  const dec = useTiny ? model.vaeDecoderTiny! : model.vaeDecoder;
  const scale = useTiny ? model.sidecar.vaeDecoderTiny!.scalingFactor : vaeScale(model);
  const f = vaeFactor(model);
  const z = f32Ops.scale(latent, 1 / scale);
  const run = async (x: F32Tensor) => tensor((await dec.run({ latent_sample: feed(x) })).sample!);
  const [, , h, w] = shape4(z);
  const { tile, overlap } = options.tiling ?? DEFAULT_VAE_TILING;
  const lt = Math.floor(tile / f);
  const out = h <= lt && w <= lt ? await run(z) : await mapTiles(z, { tile: lt, overlap: Math.floor(overlap / f), align: 1, scale: f, outChannels: 3, ...(options.signal ? { signal: options.signal } : {}) }, (t) => run(t));
  return clampUnit(out);
}

// ---------------------------------------------------------------- sampling

/** Progress of a generation. */
export interface DiffusersProgress {
  stage: 'encoding' | 'sampling' | 'decoding';
  step?: number;
  steps?: number;
}

/** One generation request; images are [1,3,H,W] in [-1,1], masks [1,1,H,W] with 1 = fill. */
export interface GenerateRequest {
  prompt: string;
  negativePrompt?: string;
  /** Start image (img2img, inpaint, edit). */
  image?: F32Tensor;
  /** Inpainting mask (1 = regenerate). */
  mask?: F32Tensor;
  /** Output size for text-to-image (multiples of 8·2^levels; default 512). */
  width?: number;
  height?: number;
  steps?: number;
  /** img2img / plain-UNet inpaint: fraction of the schedule re-run (1 = from pure noise). Default 1 (0.75 for img2img). */
  strength?: number;
  /** Text guidance scale w (1 = no guidance, uncond branch skipped). */
  guidanceScale?: number;
  /** InstructPix2Pix image guidance scale. */
  imageGuidanceScale?: number;
  seed: number;
  /** Instruction edit: the source image conditions an 8-channel (InstructPix2Pix) UNet. */
  edit?: boolean;
  controlnet?: { model: ControlNetModel; image: F32Tensor; scale?: number };
  /** Force a sampler family; default from the scheduler config. */
  sampler?: 'ddim' | 'lcm' | 'dpmpp-2m';
  vaeTiling?: VaeTiling;
  signal?: AbortSignalLike;
  onProgress?(p: DiffusersProgress): void;
  /** Called after each step with the current x̂ decoded by the tiny decoder (when the pack has one). */
  onPreview?(image: F32Tensor, step: number): void;
}

/** Pixel alignment: VAE factor × 8 keeps every UNet level integral (SD: 64 px). */
export function pixelAlign(model: DiffusersPipelineModel): number {
  return vaeFactor(model) * 8;
}

/** Timesteps of the scheduler config (descending) and how to sample them. */
export function planTimesteps(spec: SchedulerSpec, steps: number, strength: number, sampler: 'ddim' | 'lcm' | 'dpmpp-2m'): number[] {
  const T = spec.schedule.trainSteps;
  let full: number[];
  if (sampler === 'lcm') full = lcmTimesteps(spec.originalSteps ?? 50, steps, T);
  else if (spec.spacing === 'linspace') {
    full = [];
    for (let i = 0; i < steps; i++) full.push(Math.round(((T - 1) * (steps - 1 - i)) / Math.max(1, steps - 1)));
    full = full.filter((t, i, a) => i === 0 || t < a[i - 1]!);
  } else full = ddimTimesteps(steps, spec.spacing, T, spec.spacing === 'leading' ? spec.stepsOffset : 0);
  const init = Math.min(Math.floor(steps * strength), steps);
  const start = steps - init;
  return full.slice(start);
}

/**
 * Generate an image. Returns [1,3,H,W] in [-1,1] at the input size (or width × height).
 * Deterministic for a given seed, pack and request.
 */
export async function generate(model: DiffusersPipelineModel, req: GenerateRequest): Promise<F32Tensor> {
  const sc = model.sidecar;
  const spec = sc.scheduler;
  if (!spec) throw new PackError('the pack has no scheduler config');
  const sched: Schedule = makeSchedule(spec.schedule);
  const rng = new Rng(req.seed);
  const f = vaeFactor(model);
  const latentC = sc.vae?.latentChannels ?? 4;
  const unetIn = sc.unet!.inChannels;
  const extra = unetIn - latentC;
  const align = pixelAlign(model);
  const signal = req.signal;
  const progress = req.onProgress ?? (() => {});

  // --- pixel canvas
  const H0 = req.image ? req.image.shape[2]! : (req.height ?? 512);
  const W0 = req.image ? req.image.shape[3]! : (req.width ?? 512);
  const image = req.image ? padToMultiple(req.image, align, 'reflect').tensor : null;
  const [Hp, Wp] = image ? [image.shape[2]!, image.shape[3]!] : [Math.ceil(H0 / align) * align, Math.ceil(W0 / align) * align];
  const h = Hp / f;
  const w = Wp / f;
  const mask = req.mask ? padToMultiple(req.mask, align, 'edge').tensor : null;
  if (req.mask && !req.image) throw new RangeError('inpainting needs an image');
  if (req.edit && (extra !== latentC || !image)) throw new PackError(`instruction edits need an InstructPix2Pix UNet (${2 * latentC} input channels) and an image`);
  if (extra === latentC + 1 && !mask) throw new PackError('this UNet is an inpainting UNet: give an image and a mask');
  if (extra !== 0 && extra !== latentC && extra !== latentC + 1) throw new PackError(`unsupported UNet input width ${unetIn}`);
  const tiling = req.vaeTiling;

  // --- text (cond + uncond in one batch)
  progress({ stage: 'encoding' });
  const w_text = req.guidanceScale ?? sc.guidance.text;
  const w_img = req.imageGuidanceScale ?? sc.guidance.image;
  const cfg = req.edit ? true : w_text > 1;
  const [cond, uncond] = await encodePrompts(model, cfg ? [req.prompt, req.negativePrompt ?? ''] : [req.prompt]);

  // --- latents of the image side
  const vaeOpts = { ...(tiling ? { tiling } : {}), ...(signal ? { signal } : {}) };
  let initLatent: F32Tensor | null = null;
  let extraCond: F32Tensor | null = null; // channels concatenated to the UNet sample
  let latentMask: F32Tensor | null = null; // plain-UNet inpainting: 1 = generate
  if (image && extra === latentC + 1) {
    // diffusers inpainting UNet: [z, mask (latent size), latents of the image with the hole zeroed]
    const masked = { data: image.data.map((v, i) => (mask!.data[i % (Hp * Wp)]! >= 0.5 ? 0 : v)), shape: [...image.shape] };
    extraCond = concatC([binarise(downMask(mask!, f)), await vaeEncode(model, masked, vaeOpts)]);
  } else if (image && req.edit) {
    // InstructPix2Pix conditions on the unscaled latent mode of the source image.
    extraCond = await vaeEncode(model, image, { ...vaeOpts, scaled: false });
  } else if (image) {
    initLatent = await vaeEncode(model, image, vaeOpts);
    if (mask) latentMask = binarise(downMask(mask, f));
  }

  // --- timesteps
  const samplerFamily = req.sampler ?? spec.sampler;
  const steps = req.steps ?? model.manifest.sampler.steps;
  const strength = initLatent && !latentMask ? (req.strength ?? 0.75) : initLatent ? (req.strength ?? 1) : 1;
  const family = samplerFamily === 'dpmpp-2m' && strength < 1 ? 'ddim' : samplerFamily;
  const ts = planTimesteps(spec, steps, strength, family);
  if (ts.length === 0) throw new RangeError('strength too low: no denoising steps left');

  // --- starting noise
  const noise = randn([1, latentC, h, w], rng);
  const z0 = initLatent && strength < 1 ? f32Ops.axpby(sched.alphaAt(ts[0]!), initLatent, sched.sigmaAt(ts[0]!), noise) : noise;

  // --- ControlNet / PE-CoDi adapter
  const cn = req.controlnet;
  let cnImage: F32Tensor | null = null;
  if (cn) {
    const ci = padToMultiple(cn.image, align, 'reflect').tensor;
    // diffusers ControlNets take the control image in [0, 1] at output resolution.
    const at = ci.shape[2] === Hp && ci.shape[3] === Wp ? ci : resizeBicubic(ci, Hp, Wp);
    cnImage = { data: at.data.map((v) => Math.max(0, Math.min(1, v * 0.5 + 0.5))), shape: [...at.shape] };
  }

  const prediction = spec.prediction;
  /**
   * The timestep as the graph declares it: [1] (Optimum), or one per batch item when its first
   * dim is the batch's (torch exports that name both "batch" make ORT insist they agree).
   */
  const timestepFeed = (t: number, graph: DiffusersGraph = model.unet, n = 1): OrtTensorIn => {
    const perItem = n > 1 && graph.input('timestep')?.shape[0] === graph.input('sample')?.shape[0];
    return perItem ? { data: new Float32Array(n).fill(t), dims: [n] } : { data: Float32Array.of(t), dims: [1] };
  };

  /** One UNet call on a batch of branches. */
  const unetBatch = async (z: F32Tensor, t: number, ehs: F32Tensor[], extras: (F32Tensor | null)[]): Promise<F32Tensor> => {
    const n = ehs.length;
    const samples = extras.map((e) => (e ? concatC([z, e]) : z));
    const sample = batch(samples);
    const ehsB = batch(ehs);
    const feeds: Record<string, OrtTensorIn> = { sample: feed(sample), timestep: timestepFeed(t, model.unet, n), encoder_hidden_states: feed(ehsB) };
    const res = sc.unet!.residuals;
    if (res.down.length > 0 || res.mid) {
      if (cn && cnImage) {
        const c = cn.model.sidecar.controlnet!;
        const cFeeds: Record<string, OrtTensorIn> = {
          sample: feed(batch(Array(n).fill(z))),
          timestep: timestepFeed(t, cn.model.graph, n),
          encoder_hidden_states: feed(ehsB),
          [c.condName]: feed(batch(Array(n).fill(cnImage))),
        };
        if (c.scaleName) {
          const rank = cn.model.graph.input(c.scaleName)?.shape.length ?? 0;
          cFeeds[c.scaleName] = { data: Float32Array.of(cn.scale ?? 1), dims: rank === 0 ? [] : [1] };
        }
        const r = await cn.model.graph.run(cFeeds);
        res.down.forEach((name, i) => (feeds[name] = r[c.residuals.down[i]!]!));
        if (res.mid) feeds[res.mid] = r[c.residuals.mid!]!;
      } else {
        // No adapter: zero residuals give the plain backbone.
        for (const name of [...res.down, ...(res.mid ? [res.mid] : [])]) {
          feeds[name] = feed(zerosOf(residualShape(model.unet.input(name)!.shape, n, h, w, name)));
        }
      }
    }
    if (sc.unet!.adapter) Object.assign(feeds, plainAdapterFeeds(model, n, h, w));
    const out = await model.unet.run(feeds);
    return tensor(out.out_sample!);
  };

  const denoise: DenoiseFn<F32Tensor> = async (z, t) => {
    let out: F32Tensor;
    if (req.edit) {
      const zeros = zerosOf(extraCond!.shape);
      const o = await unetBatch(z, t, [cond!, uncond!, uncond!], [extraCond, extraCond, zeros]);
      const [oText, oImage, oNone] = [item(o, 0), item(o, 1), item(o, 2)];
      // ε̂ = ε(∅,∅) + s_T·(ε(c_T,c_I) − ε(∅,c_I)) + s_I·(ε(∅,c_I) − ε(∅,∅))
      out = f32Ops.add(f32Ops.add(oNone, f32Ops.scale(f32Ops.sub(oText, oImage), w_text)), f32Ops.scale(f32Ops.sub(oImage, oNone), w_img));
    } else if (cfg) {
      const o = await unetBatch(z, t, [uncond!, cond!], [extraCond, extraCond]);
      const u = item(o, 0);
      out = f32Ops.axpby(1, u, w_text, f32Ops.sub(item(o, 1), u));
    } else out = await unetBatch(z, t, [cond!], [extraCond]);
    if (latentMask && initLatent) out = keepKnown(z, out, t);
    if (req.onPreview && model.vaeDecoderTiny) {
      const p = predictXEps(f32Ops, prediction, z, out, sched.alphaAt(t), sched.sigmaAt(t));
      req.onPreview(await vaeDecode(model, p.xHat, { tiny: true, ...vaeOpts }), ts.indexOf(t));
    }
    return out;
  };

  /** Plain-UNet inpainting: in the kept region, replace the output by the one that predicts the known latent. */
  const keepKnown = (z: F32Tensor, out: F32Tensor, t: number): F32Tensor => {
    const a = sched.alphaAt(t);
    const s = sched.sigmaAt(t);
    const plane = h * w;
    const r = new Float32Array(out.data.length);
    for (let i = 0; i < r.length; i++) {
      const m = latentMask!.data[i % plane]!;
      if (m >= 0.5) {
        r[i] = out.data[i]!;
        continue;
      }
      const x = initLatent!.data[i]!;
      const eps = (z.data[i]! - a * x) / s;
      r[i] = prediction === 'v' ? a * eps - s * x : prediction === 'epsilon' ? eps : x;
    }
    return { data: r, shape: [...out.shape] };
  };

  progress({ stage: 'sampling', step: 0, steps: ts.length });
  const kind: SamplerKind = family === 'lcm' ? 'codi-renoise' : family;
  const latent = await runSampler(kind, f32Ops, denoise, z0, sched, {
    steps: ts.length,
    ...(family === 'dpmpp-2m' ? {} : { timesteps: ts }),
    prediction,
    ...(family === 'ddim' ? { spacing: spec.spacing === 'trailing' ? 'trailing' : 'leading', setAlphaToOne: spec.setAlphaToOne } : {}),
    ...(family === 'lcm' ? { rng, boundary: 'lcm' as const } : {}),
    ...(signal ? { signal } : {}),
    onStep: (i, n) => progress({ stage: 'sampling', step: i + 1, steps: n }),
  });

  let final = latent;
  if (latentMask && initLatent) {
    const plane = h * w;
    final = { data: latent.data.map((v, i) => (latentMask.data[i % plane]! >= 0.5 ? v : initLatent.data[i]!)), shape: [...latent.shape] };
  }
  progress({ stage: 'decoding' });
  let out = await vaeDecode(model, final, vaeOpts);
  if (image && mask) {
    // Pixels outside the mask are the input's own, not a VAE round trip.
    const plane = Hp * Wp;
    out = { data: out.data.map((v, i) => (mask.data[i % plane]! >= 0.5 ? v : image.data[i]!)), shape: [...out.shape] };
  }
  return crop(out, 0, 0, H0, W0);
}

/**
 * A UNet exported for CoDi SD adapters, run without one: zero features and μ = 0, which is
 * exactly the plain backbone (each mix point keeps (1 − 0)·h).
 */
function plainAdapterFeeds(model: DiffusersPipelineModel, n: number, h: number, w: number): Record<string, OrtTensorIn> {
  const a = model.sidecar.unet!.adapter!;
  if (!a.strides) throw new PackError(`"${model.manifest.name}" cannot tell the levels of its adapter inputs (no unet/config.json with down_block_types and layers_per_block); it runs only with its CoDi adapter pack`);
  const feeds: Record<string, OrtTensorIn> = {};
  a.features.forEach((name, i) => {
    const c = model.unet.input(name)?.shape[1];
    if (typeof c !== 'number') throw new PackError(`adapter input "${name}" has no fixed channel count`);
    const s = a.strides![i]!;
    feeds[name] = feed(zerosOf([n, c, Math.ceil(h / s), Math.ceil(w / s)]));
  });
  feeds[a.mu] = { data: new Float32Array(a.features.length), dims: [a.features.length] };
  return feeds;
}

function binarise(m: F32Tensor): F32Tensor {
  return { data: m.data.map((v) => (v > 0 ? 1 : 0)), shape: [...m.shape] };
}

/** Shape of a zero residual: declared channels, spatial size from the declared level ("height/2" → h/2). */
function residualShape(declared: readonly (number | string)[], n: number, h: number, w: number, name: string): number[] {
  const c = declared[1];
  if (typeof c !== 'number') throw new PackError(`residual input "${name}" has no fixed channel count; this UNet needs a ControlNet`);
  const level = levelOfDim(declared[2], h);
  return [n, c, Math.ceil(h / 2 ** level), Math.ceil(w / 2 ** level)];
}

/** "height" → 0, "height/2" → 1, "height/4" → 2; a number → log2(h / n). */
function levelOfDim(d: number | string | undefined, h: number): number {
  if (typeof d === 'number') return Math.round(Math.log2(h / d));
  const m = /\/(\d+)$/.exec(d ?? '');
  return m ? Math.round(Math.log2(Number(m[1]))) : 0;
}

// ---------------------------------------------------------------- tools

/** Inpaint: fill the mask (1 = fill) guided by the prompt. */
export function inpaint(model: DiffusersPipelineModel, image: F32Tensor, mask: F32Tensor, options: Omit<GenerateRequest, 'image' | 'mask' | 'edit'>): Promise<F32Tensor> {
  return generate(model, { ...options, image, mask });
}

/** Restore / upscale: img2img from the bicubic upscale, steered by a ControlNet on the same image. */
export function restore(model: DiffusersPipelineModel, controlnet: ControlNetModel, lowRes: F32Tensor, scale: number, options: Omit<GenerateRequest, 'image' | 'controlnet' | 'edit'> & { controlScale?: number }): Promise<F32Tensor> {
  const [, , h, w] = shape4(lowRes);
  const up = scale === 1 ? lowRes : clampUnit(resizeBicubic(lowRes, h * scale, w * scale));
  return generate(model, { ...options, image: up, controlnet: { model: controlnet, image: up, ...(options.controlScale !== undefined ? { scale: options.controlScale } : {}) } });
}

/** Instruction edit (InstructPix2Pix dual guidance). */
export function edit(model: DiffusersPipelineModel, image: F32Tensor, instruction: string, options: Omit<GenerateRequest, 'image' | 'prompt' | 'edit'>): Promise<F32Tensor> {
  return generate(model, { ...options, image, prompt: instruction, edit: true });
}
