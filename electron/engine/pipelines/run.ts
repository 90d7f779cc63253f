/**
 * The tools: the pack's backend (native latent graphs or a diffusers pipeline, chosen once here)
 * generates, and the result is composed with the photo (compose.ts) and stored. Restore upscales
 * and mixes; edit, depth and custom change the whole image; inpaint gives the model a context
 * region around the mask, matches the fill's colours to its surroundings and pastes it inside
 * the mask only.
 */
import { matchFillColors } from '../../../core/image/color-match.ts';
import { contextRegion, maskBox } from '../../../core/image/mask-region.ts';
import { resizeBicubic } from '../../../core/image/resize.ts';
import { teleaFill } from '../../../core/image/telea.ts';
import { crop, padToMultiple, u8MaskToNchw } from '../../../core/tensor/layout.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import type { JobOutput } from '../jobs/queue.ts';
import { JobError } from '../jobs/queue.ts';
import { imageToNchw } from '../images/tensor.ts';
import type { PackModel } from '../packs/registry.ts';
import { alphaAt, finish, pasteFill, withStrength } from './compose.ts';
import { diffusersBackend } from './diffusers-backend.ts';
import { nativeBackend } from './native-backend.ts';
import type { PipelineInput, ToolBackend } from './types.ts';

/** Width of the sampling rings and depth of the colour-matched zone inside the mask (px). */
export const INPAINT_RING_PX = 8;
export const INPAINT_MATCH_PX = 12;

export async function runPipeline(p: PipelineInput): Promise<JobOutput> {
  const m = p.model.manifest;
  const backend = backendFor(p.model);
  const steps = Math.min(p.request.steps ?? m.sampler.steps, m.sampler.maxSteps);
  const graph = p.model.kind === 'denoiser' && p.model.graph ? [`graph ${p.model.graph}`] : [];
  const notes: string[] = [`${m.name} ${m.version}, ${steps} step${steps === 1 ? '' : 's'}`, ...graph, ...(p.notes ?? [])];
  p.ctx.progress({ stage: 'preparing' });
  backend.checkTool(p);
  switch (p.request.tool) {
    case 'restore':
      return restore(p, backend, steps, notes);
    case 'inpaint':
      return inpaint(p, backend, steps, notes);
    case 'edit':
    case 'depth':
    case 'custom':
      return wholeImage(p, backend, steps, notes);
  }
}

/** The one place that asks which kind of pack this is. */
function backendFor(model: PackModel): ToolBackend {
  switch (model.kind) {
    case 'backbone':
      throw new JobError('invalid-request', `pack "${model.manifest.name}" is a backbone, not a tool`);
    case 'diffusers':
      return diffusersBackend(model);
    case 'denoiser':
    case 'adapter':
      return nativeBackend(model);
  }
}

async function restore(p: PipelineInput, backend: ToolBackend, steps: number, notes: string[]): Promise<JobOutput> {
  const s = p.model.manifest.upscale;
  const { width: W, height: H } = p.input;
  const x = imageToNchw(p.input);
  const out = await backend.restore(p, x, steps, notes);
  // the bicubic base is made only for a strength below 1 (a 2 MP ×4 restore's is 384 MB)
  const base = (): F32Tensor => (s === 1 ? x : resizeBicubic(x, H * s, W * s));
  return finish(p, withStrength(p, out, base), alphaAt(p, H * s, W * s), notes);
}

async function wholeImage(p: PipelineInput, backend: ToolBackend, steps: number, notes: string[]): Promise<JobOutput> {
  const { width: W, height: H } = p.input;
  const x = imageToNchw(p.input);
  const out = await backend.wholeImage(p, x, steps, notes);
  // a depth result is a new image made from the map, not a change to mix with the input
  return finish(p, p.request.tool === 'depth' ? out : withStrength(p, out, x), alphaAt(p, H, W), notes);
}

async function inpaint(p: PipelineInput, backend: ToolBackend, steps: number, notes: string[]): Promise<JobOutput> {
  const { width: W, height: H } = p.input;
  const maskData = p.request.mask;
  if (!maskData) throw new JobError('invalid-request', 'inpaint needs a mask');
  const mask = u8MaskToNchw(maskData.data, H, W);
  const box = maskBox(mask.data, W, H);
  if (!box) throw new JobError('invalid-request', 'the mask is empty: paint the area to fill');
  const align = backend.pixelAlign;
  const px = padToMultiple(imageToNchw(p.input), align, 'edge').tensor;
  const pm = padToMultiple(mask, align, 'zero').tensor;
  const [, , PH, PW] = px.shape as [number, number, number, number];
  const region = contextRegion(box, align, PH, PW);
  const { y0, x0, y1, x1 } = region;
  const imgCrop = crop(px, y0, x0, y1 - y0, x1 - x0);
  const maskCrop = crop(pm, y0, x0, y1 - y0, x1 - x0);
  if (p.model.manifest.fillSource === 'classic') {
    // the pack measured below the classic fill on its validation data: the user gets the better one
    notes.push(`classic Telea fill of region ${x1 - x0}×${y1 - y0} at (${x0}, ${y0}): pack "${p.model.manifest.name}" measured below it, so its model is not run`);
    return pasteFill(p, teleaFill(imgCrop, maskCrop), maskCrop.data, region, notes);
  }
  const gen = await backend.fill(p, imgCrop, maskCrop, steps, notes);
  notes.push(`inpainted region ${x1 - x0}×${y1 - y0} at (${x0}, ${y0})`);
  // Seams: match the fill's colour statistics to a ring around the mask, in the feather zone.
  const matched = matchFillColors(gen, imgCrop, maskCrop.data, { ringPx: INPAINT_RING_PX, featherPx: INPAINT_MATCH_PX });
  if (matched.corrections) notes.push('fill colour matched to its surroundings');
  return pasteFill(p, matched.image, maskCrop.data, region, notes);
}
