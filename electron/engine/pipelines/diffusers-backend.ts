/**
 * The tools on a diffusers (Stable-Diffusion-class) pack: request fields → pipeline options
 * (prompt, guidance, seed, steps, cancellation), the pipeline's progress → job progress, and a
 * size guard, since the UNet runs on the whole canvas (only the VAE is tiled). A pack provides
 * the one tool of its task: restore, inpaint or edit.
 */
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import { edit, inpaint, pixelAlign, restore } from '../diffusers/pipeline.ts';
import type { DiffusersProgress, GenerateRequest } from '../diffusers/pipeline.ts';
import { codiGenerate } from '../diffusers/codi-pipeline.ts';
import type { CodiAdapterModel } from '../diffusers/codi-pipeline.ts';
import { JobError } from '../jobs/queue.ts';
import type { DiffusersPack, PipelineInput, ToolBackend } from './types.ts';

/**
 * Largest canvas (pixels, after alignment) the UNet is run on in one piece. SD-class attention
 * grows with the square of the latent area; beyond this a CPU or a mid-range GPU runs out of memory.
 */
export const MAX_DIFFUSERS_PIXELS = 1536 * 1536;

/** img2img strength of restore: the share of the schedule re-run from the bicubic upscale. */
const RESTORE_STRENGTH = 0.75;

export function diffusersBackend(model: DiffusersPack): ToolBackend {
  return {
    // the UNet's grid: VAE factor × 8, 64 px for SD
    pixelAlign: pixelAlign(model.pipeline),
    checkTool(p) {
      const m = model.manifest;
      if (p.request.tool !== m.task) throw new JobError('invalid-request', `pack "${m.name}" is a ${m.task} pack, not ${p.request.tool}`);
      if (p.request.tool !== 'restore' && p.request.tool !== 'inpaint' && p.request.tool !== 'edit') {
        throw new JobError('invalid-request', `diffusers packs do not provide the ${p.request.tool} tool`);
      }
    },
    restore: (p, x, steps, notes) => (model.codi ? codiRun(p, model, model.codi, x, steps, notes) : diffusersRestore(p, model, x, steps, notes)),
    wholeImage: (p, x, steps, notes) => (model.codi ? codiRun(p, model, model.codi, x, steps, notes) : diffusersEdit(p, model, x, steps, notes)),
    fill: (p, image, mask, steps, notes) => (model.codi ? codiRun(p, model, model.codi, image, steps, notes, mask) : diffusersFill(p, model, image, mask, steps, notes)),
  };
}

/**
 * A CoDi SD adapter pack: few-step CoDi sampling, no guidance (the distilled model has none);
 * inpaint and restore run on the empty prompt, edit on the request's instruction.
 */
async function codiRun(p: PipelineInput, model: DiffusersPack, codi: CodiAdapterModel, image: F32Tensor, steps: number, notes: string[], mask?: F32Tensor): Promise<F32Tensor> {
  const task = codi.entry.task;
  const scale = task === 'restore' ? model.manifest.upscale : 1;
  checkCanvas(model, image.shape[2]! * scale, image.shape[3]! * scale);
  const instruction = p.request.prompt?.trim() ?? '';
  if (task === 'edit' && !instruction) throw new JobError('invalid-request', `the edit tool of "${model.manifest.name}" needs an instruction (free text, e.g. "make it look like winter")`);
  notes.push(`CoDi ${task} adapter on "${model.pipeline.manifest.name}", ${steps} step${steps === 1 ? '' : 's'}${task === 'edit' ? `, instruction: "${instruction}"` : ''}`);
  return codiGenerate(model.pipeline, codi, {
    task,
    image,
    ...(mask ? { mask } : {}),
    ...(task === 'restore' ? { scale } : {}),
    ...(task === 'edit' ? { instruction } : {}),
    steps,
    seed: p.request.seed,
    signal: p.ctx.signal,
    onProgress: (d) => reportProgress(p, d),
  });
}

type CommonOptions = Omit<GenerateRequest, 'image' | 'mask' | 'edit' | 'controlnet'>;

/** The request's text and guidance fields, seed, steps, cancellation and progress. */
function options(p: PipelineInput, model: DiffusersPack, steps: number, notes: string[]): CommonOptions {
  const r = p.request;
  const g = model.pipeline.sidecar.guidance;
  const prompt = r.prompt?.trim() ?? '';
  notes.push(`prompt: "${prompt}"${r.negativePrompt ? `, negative: "${r.negativePrompt}"` : ''}`);
  notes.push(`guidance ${r.guidanceScale ?? g.text}${p.request.tool === 'edit' ? `, image guidance ${r.imageGuidanceScale ?? g.image}` : ''}`);
  return {
    prompt,
    seed: r.seed,
    steps,
    ...(r.negativePrompt !== undefined ? { negativePrompt: r.negativePrompt } : {}),
    ...(r.guidanceScale !== undefined ? { guidanceScale: r.guidanceScale } : {}),
    ...(r.imageGuidanceScale !== undefined ? { imageGuidanceScale: r.imageGuidanceScale } : {}),
    signal: p.ctx.signal,
    onProgress: (d) => reportProgress(p, d),
  };
}

/** Encoding ≈ 5 %, sampling up to 90 %, decoding the rest (drives the ETA). */
function reportProgress(p: PipelineInput, d: DiffusersProgress): void {
  if (d.stage === 'encoding') p.ctx.progress({ stage: 'preparing', message: 'encoding the prompt and image', fraction: 0.02 });
  else if (d.stage === 'decoding') p.ctx.progress({ stage: 'decoding', fraction: 0.92 });
  else if (d.steps !== undefined && d.step !== undefined) {
    p.ctx.progress({ stage: 'denoising', step: { i: d.step, n: d.steps }, fraction: 0.05 + (0.85 * d.step) / d.steps });
  }
}

function checkCanvas(model: DiffusersPack, height: number, width: number): void {
  const a = pixelAlign(model.pipeline);
  const px = Math.ceil(height / a) * a * Math.ceil(width / a) * a;
  if (px > MAX_DIFFUSERS_PIXELS) {
    throw new JobError(
      'invalid-request',
      `${width}×${height} is too large for "${model.manifest.name}" (the UNet runs on the whole image; at most ${MAX_DIFFUSERS_PIXELS / 1e6} megapixels); crop or downscale first`,
    );
  }
}

/** Fill the mask of a crop (1 = fill); pixels outside the mask are the input's own. */
async function diffusersFill(p: PipelineInput, model: DiffusersPack, image: F32Tensor, mask: F32Tensor, steps: number, notes: string[]): Promise<F32Tensor> {
  checkCanvas(model, image.shape[2]!, image.shape[3]!);
  return inpaint(model.pipeline, image, mask, options(p, model, steps, notes));
}

/** Upscale by the pack's factor: img2img from the bicubic upscale, steered by the ControlNet. */
async function diffusersRestore(p: PipelineInput, model: DiffusersPack, lowRes: F32Tensor, steps: number, notes: string[]): Promise<F32Tensor> {
  if (!model.controlnet) throw new JobError('pack-invalid', `pack "${model.manifest.name}" has no ControlNet; restore needs one`);
  const s = model.manifest.upscale;
  checkCanvas(model, lowRes.shape[2]! * s, lowRes.shape[3]! * s);
  // Few-step packs: re-run at least one step.
  const strength = steps * RESTORE_STRENGTH >= 1 ? RESTORE_STRENGTH : 1;
  return restore(model.pipeline, model.controlnet, lowRes, s, { ...options(p, model, steps, notes), strength });
}

/** Instruction edit with InstructPix2Pix dual guidance; the instruction is free text. */
async function diffusersEdit(p: PipelineInput, model: DiffusersPack, image: F32Tensor, steps: number, notes: string[]): Promise<F32Tensor> {
  if (!p.request.prompt?.trim()) throw new JobError('invalid-request', `the edit tool of "${model.manifest.name}" needs an instruction (free text, e.g. "make it look like winter")`);
  checkCanvas(model, image.shape[2]!, image.shape[3]!);
  const { prompt, ...rest } = options(p, model, steps, notes);
  return edit(model.pipeline, image, prompt, rest);
}
