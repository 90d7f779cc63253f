/**
 * The tools: condition (core/conditions.ts) → seeded noise → sampler over the pack's graphs
 * (tiled for big images) → pixel-shuffle decode → image in the store. One function per tool,
 * sharing the latent path. Diffusers (Stable-Diffusion-class) packs run their own pipeline
 * (diffusers/pipeline.ts) in place of the latent path and share the crop, blend and store steps.
 */
import { customCondition, depthCondition, editCondition, inpaintCondition, restoreCondition } from '../../../core/conditions.ts';
import { instructionFeatures, matchInstruction } from '../../../core/text/instruction-features.ts';
import { matchFillColors } from '../../../core/image/color-match.ts';
import { boxMean, clampUnitInPlace } from '../../../core/image/filters.ts';
import { carryEdit, carryFromWorkingSize, meanOfDraws, workingSize } from '../../../core/image/gain-offset.ts';
import { resizeBicubic } from '../../../core/image/resize.ts';
import { crop, padToMultiple, pixelShuffle, rgbToGrey, u8MaskToNchw } from '../../../core/tensor/layout.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import type { RunToolParams } from '../../contract/schemas.ts';
import type { JobContext, JobOutput } from '../jobs/queue.ts';
import { JobError } from '../jobs/queue.ts';
import type { ImageStore, StoredImage } from '../images/store.ts';
import { alphaPlane, imageToNchw, nchwToPixels } from '../images/tensor.ts';
import type { PackModel } from '../packs/registry.ts';
import { normalizeInstruction } from '../packs/registry.ts';
import { LATENT_ALIGN, sampleTiled } from './tiled.ts';
import { diffusersEdit, diffusersFill, diffusersRestore, diffusersPixelAlign } from './diffusers-tools.ts';

export interface PipelineInput {
  model: PackModel;
  input: StoredImage;
  request: RunToolParams;
  ctx: JobContext;
  store: ImageStore;
  maxTile?: number;
  /** Depth tool: the depth map to generate from, when it is not the input image itself. */
  condition?: StoredImage;
  /** What the engine did to the request before the run (a mask scaled to the image), for the job's notes. */
  notes?: readonly string[];
}

export async function runPipeline(p: PipelineInput): Promise<JobOutput> {
  const m = p.model.manifest;
  if (p.model.kind === 'backbone') throw new JobError('invalid-request', `pack "${m.name}" is a backbone, not a tool`);
  const steps = Math.min(p.request.steps ?? m.sampler.steps, m.sampler.maxSteps);
  const notes: string[] = [`${m.name} ${m.version}, ${steps} step${steps === 1 ? '' : 's'}`, ...(p.notes ?? [])];
  p.ctx.progress({ stage: 'preparing' });
  if (p.model.kind === 'diffusers') {
    if (p.request.tool !== m.task) throw new JobError('invalid-request', `pack "${m.name}" is a ${m.task} pack, not ${p.request.tool}`);
    switch (p.request.tool) {
      case 'restore':
        return restore(p, steps, notes);
      case 'inpaint':
        return inpaint(p, steps, notes);
      case 'edit':
        return wholeImage(p, steps, notes);
      default:
        throw new JobError('invalid-request', `diffusers packs do not provide the ${p.request.tool} tool`);
    }
  }
  switch (p.request.tool) {
    case 'restore':
      return restore(p, steps, notes);
    case 'inpaint':
      return inpaint(p, steps, notes);
    case 'edit':
    case 'depth':
    case 'custom':
      return wholeImage(p, steps, notes);
  }
}

/** Pixel alignment the graphs need: latent factor × latent alignment (16 px for ×4 unshuffle). */
function pixelAlign(model: PackModel): number {
  if (model.kind === 'diffusers') return diffusersPixelAlign(model);
  return model.manifest.latent.factor * LATENT_ALIGN;
}

/** Sample the latent for a condition and decode it to [1, 3, H, W] in [-1, 1]. */
async function generate(p: PipelineInput, cond: F32Tensor, steps: number, notes: string[], text: Float32Array | null, seedOffset = 0): Promise<F32Tensor> {
  const latent = await sampleTiled({
    model: p.model,
    cond,
    text,
    steps,
    seed: p.request.seed + seedOffset,
    ctx: p.ctx,
    maxTilePx: p.maxTile,
    notes,
  });
  p.ctx.progress({ stage: 'decoding', fraction: 1 });
  return pixelShuffle(latent, p.model.manifest.latent.factor);
}

/** The mean of the pack's `n` samples (core meanOfDraws); notes from the first draw only. */
async function meanOfSamples(p: PipelineInput, cond: F32Tensor, steps: number, notes: string[], text: Float32Array | null, n: number): Promise<F32Tensor> {
  let shape: number[] = [];
  const data = await meanOfDraws(n, async (k) => {
    const one = await generate(p, cond, steps, k === 0 ? notes : [], text, k);
    shape = [...one.shape];
    return one.data;
  });
  return { data, shape };
}

function checkConditionWidth(p: PipelineInput, cond: F32Tensor): void {
  const want = p.model.manifest.conditionChannels;
  if (cond.shape[1] !== want) {
    throw new JobError('pack-invalid', `pack "${p.model.manifest.name}" expects ${want} condition channels, the ${p.request.tool} condition has ${cond.shape[1]}`);
  }
}

async function restore(p: PipelineInput, steps: number, notes: string[]): Promise<JobOutput> {
  const m = p.model.manifest;
  const s = m.upscale;
  const { width: W, height: H } = p.input;
  const x = imageToNchw(p.input);
  let out: F32Tensor;
  if (p.model.kind === 'diffusers') {
    out = await diffusersRestore(p, p.model, x, steps, notes);
  } else {
    // Pad the low-res input so that the upscaled size is a multiple of the pixel alignment.
    const align = pixelAlign(p.model);
    const lowAlign = align / gcd(align, s);
    const padded = padToMultiple(x, lowAlign, 'edge').tensor;
    const [, , ph, pw] = padded.shape as [number, number, number, number];
    const cond = restoreCondition(padded, ph * s, pw * s, m.latent.factor);
    checkConditionWidth(p, cond);
    out = crop(await generate(p, cond, steps, notes, null), 0, 0, H * s, W * s);
  }
  const base = s === 1 ? x : resizeBicubic(x, H * s, W * s);
  const alpha = alphaPlane(p.input);
  return finish(p, blend(out, base, p.request.strength), alpha && s !== 1 ? clamp01(resizeBicubic(alpha, H * s, W * s)) : alpha, notes);
}

async function wholeImage(p: PipelineInput, steps: number, notes: string[]): Promise<JobOutput> {
  const m = p.model.manifest;
  const { width: W, height: H } = p.input;
  const x = imageToNchw(p.input);
  if (p.model.kind === 'diffusers') {
    const out = await diffusersEdit(p, p.model, x, steps, notes);
    return finish(p, blend(out, x, p.request.strength), alphaPlane(p.input), notes);
  }
  const r = m.latent.factor;
  const tool = p.request.tool;
  // An edit, or a pack that carries its change (personal looks are 'custom' carry packs), runs at
  // its working size and the change is carried to the photo, so the model's work does not grow
  // with the photo: a personal look on a 1680×1050 photo took 66 s at full size, 0.8 s here
  // (the edit pack 0.7 s).
  if (tool === 'edit' || (tool === 'custom' && m.carry)) {
    const work = workingSize(H, W, m.carry?.workingSize ?? m.tile.size, pixelAlign(p.model));
    if (work.scaled) return editAtWorkingSize(p, x, work, steps, notes);
  }
  const source = tool === 'depth' && p.condition ? depthSource(p.condition, H, W, notes) : x;
  const padded = padToMultiple(source, pixelAlign(p.model), 'edge').tensor;
  const cond = tool === 'depth' ? depthCondition(rgbToGrey(padded), r) : tool === 'edit' ? editCondition(padded, r) : customCondition(padded, r);
  checkConditionWidth(p, cond);
  const text = instructionEmbedding(p, notes);
  let out: F32Tensor;
  if (m.carry && tool !== 'depth') {
    const n = m.carry.samples;
    out = clampUnit(carryEdit(x, crop(await meanOfSamples(p, cond, steps, notes, text, n), 0, 0, H, W), m.carry.radius));
    notes.push(`the model's change carried onto the photo as a smooth gain/offset field (mean of ${n} sample${n > 1 ? 's' : ''}, radius ${m.carry.radius} px): detail is the original's`);
  } else {
    out = crop(await generate(p, cond, steps, notes, text), 0, 0, H, W);
  }
  return finish(p, tool === 'depth' ? out : blend(out, x, p.request.strength), alphaPlane(p.input), notes);
}

/**
 * A photo larger than the pack's working size: run the edit on an area-downscaled copy, then
 * carry it to full resolution as a smooth per-pixel gain/offset field (core/image/gain-offset.ts)
 * applied to the original, so the original's fine detail survives.
 */
async function editAtWorkingSize(p: PipelineInput, x: F32Tensor, work: { height: number; width: number; scaled: boolean }, steps: number, notes: string[]): Promise<JobOutput> {
  const { width: W, height: H } = p.input;
  // a pack that carries its change (manifest `carry`) gets the mean of its samples here too
  const n = p.model.manifest.carry?.samples ?? 1;
  const radius = p.model.manifest.carry?.radius ?? Math.max(2, Math.round(Math.min(work.height, work.width) / 32));
  const out = await carryFromWorkingSize(x, work, radius, async (low) => {
    const r = p.model.manifest.latent.factor;
    const cond = p.request.tool === 'custom' ? customCondition(low, r) : editCondition(low, r);
    checkConditionWidth(p, cond);
    return meanOfSamples(p, cond, steps, notes, instructionEmbedding(p, notes), n);
  });
  notes.push(`edited at ${work.width}×${work.height}, carried to ${W}×${H} with a gain/offset field${n > 1 ? ` (mean of ${n} samples)` : ''}`);
  return finish(p, blend(out, x, p.request.strength), alphaPlane(p.input), notes);
}

function clampUnit(x: F32Tensor): F32Tensor {
  clampUnitInPlace(x.data);
  return x;
}

/** A separate depth map, resized (bicubic) to the output size when it differs. */
function depthSource(depth: StoredImage, H: number, W: number, notes: string[]): F32Tensor {
  const d = imageToNchw(depth);
  notes.push(`depth map ${depth.width}×${depth.height}, ${depth.depth}-bit${depth.width !== W || depth.height !== H ? `, resized to ${W}×${H}` : ''}`);
  return depth.width === W && depth.height === H ? d : resizeBicubic(d, H, W);
}

/** Instruction text → embedding from the pack's table; unknown instructions are refused with the known list. */
function instructionEmbedding(p: PipelineInput, notes: string[]): Float32Array | null {
  const dim = p.model.manifest.textEmbeddingDim;
  if (dim === 0) return null;
  const prompt = p.request.prompt?.trim();
  if (!prompt) throw new JobError('invalid-request', `the ${p.request.tool} tool of "${p.model.manifest.name}" needs an instruction`);
  const table = p.model.instructions;
  if (!table) throw new JobError('pack-invalid', `pack "${p.model.manifest.name}" takes text but ships no instruction table`);
  if (table.featurizer) {
    // Any wording is embedded; one far from every trained wording is refused with the nearest ones,
    // rather than running the model on an instruction it never learned.
    const match = matchInstruction(prompt, table.featurizer.known);
    if (!match.known) {
      const nearest = match.nearest.map((n) => `"${n.text}"`).join(', ');
      throw new JobError('invalid-request', `"${prompt}" is far from anything this pack was trained on (similarity ${match.similarity.toFixed(2)}); the nearest instructions it knows: ${nearest}`);
    }
    notes.push(`instruction "${prompt}" read as "${match.nearest[0]?.text}" (${match.nearest[0]?.edit}, similarity ${match.similarity.toFixed(2)})`);
    return instructionFeatures(prompt, table.dim);
  }
  const emb = table.entries.get(normalizeInstruction(prompt));
  if (!emb) {
    const known = [...table.entries.keys()];
    const list = known.slice(0, 12).map((k) => `"${k}"`).join(', ');
    throw new JobError('invalid-request', `unknown instruction "${prompt}"; this pack knows ${known.length}: ${list}${known.length > 12 ? ', …' : ''}`);
  }
  notes.push(`instruction: "${normalizeInstruction(prompt)}"`);
  return emb;
}

/** Width of the sampling rings and depth of the colour-matched zone inside the mask (px). */
const INPAINT_RING_PX = 8;
const INPAINT_MATCH_PX = 12;

async function inpaint(p: PipelineInput, steps: number, notes: string[]): Promise<JobOutput> {
  const { width: W, height: H } = p.input;
  const maskData = p.request.mask;
  if (!maskData) throw new JobError('invalid-request', 'inpaint needs a mask');
  const mask = u8MaskToNchw(maskData.data, H, W);
  const box = maskBox(mask.data, W, H);
  if (!box) throw new JobError('invalid-request', 'the mask is empty: paint the area to fill');
  // Context region: the mask's box plus a margin, aligned to what the graphs accept.
  const align = pixelAlign(p.model);
  const margin = Math.max(align * 2, Math.round(0.5 * Math.max(box.y1 - box.y0, box.x1 - box.x0)));
  const x = imageToNchw(p.input);
  const px = padToMultiple(x, align, 'edge').tensor;
  const pm = padToMultiple(mask, align, 'zero').tensor;
  const [, , PH, PW] = px.shape as [number, number, number, number];
  const y0 = Math.max(0, Math.floor((box.y0 - margin) / align) * align);
  const x0 = Math.max(0, Math.floor((box.x0 - margin) / align) * align);
  const y1 = Math.min(PH, Math.ceil((box.y1 + margin) / align) * align);
  const x1 = Math.min(PW, Math.ceil((box.x1 + margin) / align) * align);
  const imgCrop = crop(px, y0, x0, y1 - y0, x1 - x0);
  const maskCrop = crop(pm, y0, x0, y1 - y0, x1 - x0);
  let gen: F32Tensor;
  if (p.model.kind === 'diffusers') {
    gen = await diffusersFill(p, p.model, imgCrop, maskCrop, steps, notes);
  } else {
    const cond = inpaintCondition(imgCrop, maskCrop, p.model.manifest.latent.factor);
    checkConditionWidth(p, cond);
    gen = await generate(p, cond, steps, notes, null);
  }
  notes.push(`inpainted region ${x1 - x0}×${y1 - y0} at (${x0}, ${y0})`);
  // Seams: match the fill's colour statistics to a ring around the mask, in the feather zone.
  const matched = matchFillColors(gen, imgCrop, maskCrop.data, { ringPx: INPAINT_RING_PX, featherPx: INPAINT_MATCH_PX });
  if (matched.corrections) notes.push('fill colour matched to its surroundings');
  // Feather-paste inside the mask only: every pixel outside the mask keeps its exact value.
  const genPixels = nchwToPixels(matched.image, null, p.input.depth).pixels;
  const weights = innerFeather(maskCrop.data, x1 - x0, y1 - y0, 3);
  const c = p.input.channels;
  const out = p.input.pixels.slice();
  const cw = x1 - x0;
  for (let y = y0; y < Math.min(y1, H); y++) {
    for (let xx = x0; xx < Math.min(x1, W); xx++) {
      const wgt = weights[(y - y0) * cw + (xx - x0)] as number;
      if (wgt <= 0) continue;
      const o = (y * W + xx) * c;
      const g = ((y - y0) * cw + (xx - x0)) * 3;
      for (let k = 0; k < 3; k++) out[o + k] = Math.round(wgt * (genPixels[g + k] as number) + (1 - wgt) * (out[o + k] as number));
    }
  }
  return store(p, { pixels: out, channels: c, width: W, height: H }, notes);
}

/** Bounding box [y0, y1) × [x0, x1) of mask values ≥ 0.5, or null. */
function maskBox(m: Float32Array, W: number, H: number): { y0: number; y1: number; x0: number; x1: number } | null {
  let y0 = H;
  let y1 = -1;
  let x0 = W;
  let x1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if ((m[y * W + x] as number) >= 0.5) {
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  return y1 < 0 ? null : { y0, y1: y1 + 1, x0, x1: x1 + 1 };
}

/** Mask × box-blurred mask: 0 outside the mask, ramping up to 1 within `r` px inside it. */
export function innerFeather(mask: Float32Array, W: number, H: number, r: number): Float32Array {
  const bin = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) bin[i] = (mask[i] as number) >= 0.5 ? 1 : 0;
  const out = boxMean(bin, H, W, r);
  for (let i = 0; i < out.length; i++) out[i] = (bin[i] as number) * Math.min(1, 2 * (out[i] as number));
  return out;
}

/** out·s + base·(1 − s); strength 1 (or omitted) keeps the model output. */
function blend(out: F32Tensor, base: F32Tensor, strength: number | undefined): F32Tensor {
  if (strength === undefined || strength >= 1) return out;
  const d = new Float32Array(out.data.length);
  for (let i = 0; i < d.length; i++) d[i] = strength * (out.data[i] as number) + (1 - strength) * (base.data[i] as number);
  return { data: d, shape: [...out.shape] };
}

function clamp01(x: F32Tensor): F32Tensor {
  const d = x.data.map((v) => (v < 0 ? 0 : v > 1 ? 1 : v));
  return { data: d, shape: [...x.shape] };
}

function finish(p: PipelineInput, rgb: F32Tensor, alpha: F32Tensor | null, notes: string[]): JobOutput {
  const [, , h, w] = rgb.shape as [number, number, number, number];
  const { pixels, channels } = nchwToPixels(rgb, alpha, p.input.depth);
  return store(p, { pixels, channels, width: w, height: h }, notes);
}

function store(
  p: PipelineInput,
  img: { pixels: Uint8Array | Uint16Array; channels: 3 | 4; width: number; height: number },
  notes: string[],
): JobOutput {
  p.ctx.progress({ stage: 'finishing', fraction: 1 });
  const base = p.input.metadata.name.replace(/\.[^.]*$/, '');
  const stored = p.store.put({
    ...img,
    depth: p.input.depth,
    metadata: {
      ...p.input.metadata,
      name: `${base}-${p.request.tool}`,
      channels: img.channels,
      hasAlpha: img.channels === 4,
    },
    ...(p.input.carry ? { carry: p.input.carry } : {}),
  });
  return { resultImageId: stored.id, width: img.width, height: img.height, notes };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
