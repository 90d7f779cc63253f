/**
 * The tools on a native pack: condition (core/conditions.ts) → seeded noise → sampler over the
 * pack's graphs (tiled for big images, tiled.ts) → pixel-shuffle decode. Edits, and packs that
 * carry their change, run at a working size and carry the change to the photo as a smooth field.
 */
import { customCondition, depthCondition, editCondition, inpaintCondition, restoreCondition } from '../../../core/conditions.ts';
import { CLEAN_DETAIL_RATIO, detailRatio } from '../../../core/image/detail-ratio.ts';
import { clampUnitInPlace, greyAtLumaInPlace } from '../../../core/image/filters.ts';
import { carryEdit, carryFromWorkingSize, meanOfDraws, workingSize } from '../../../core/image/gain-offset.ts';
import { resizeBicubic } from '../../../core/image/resize.ts';
import { unsharpInPlace } from '../../../core/image/unsharp.ts';
import { distinctDraws, drawOf, startTemperature } from '../../../core/samplers/start.ts';
import { crop, padToMultiple, pixelShuffle, rgbToGrey } from '../../../core/tensor/layout.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import { JobError } from '../jobs/queue.ts';
import type { StoredImage } from '../images/store.ts';
import { imageToNchw } from '../images/tensor.ts';
import { achromaticEdit, instructionEmbedding } from './instruction.ts';
import { LATENT_ALIGN, sampleTiled } from './tiled.ts';
import type { NativePack, PipelineInput, ToolBackend } from './types.ts';

export function nativeBackend(model: NativePack): ToolBackend {
  const m = model.manifest;
  // latent factor × latent alignment: 16 px for a ×4 unshuffle
  const align = m.latent.factor * LATENT_ALIGN;
  return {
    pixelAlign: align,
    // every native tool is provided; which one a pack is for was settled when it was chosen
    checkTool: () => undefined,
    async restore(p, x, steps, notes) {
      const s = m.upscale;
      if (m.restoreFor === 'damaged') {
        const ratio = detailRatio(x);
        if (ratio >= CLEAN_DETAIL_RATIO) {
          notes.push(`this photo looks clean (fine-detail ratio ${ratio.toFixed(2)}, clean from ${CLEAN_DETAIL_RATIO}): this tool is for blurred, noisy or JPEG-damaged photos, and on clean ones the ×4 tool for clean photos measured better`);
        }
      }
      const [, , H, W] = x.shape as [number, number, number, number];
      // Pad the low-res input so that the upscaled size is a multiple of the pixel alignment.
      const padded = padToMultiple(x, align / gcd(align, s), 'edge').tensor;
      const [, , ph, pw] = padded.shape as [number, number, number, number];
      const cond = restoreCondition(padded, ph * s, pw * s, m.latent.factor);
      checkConditionWidth(p, cond);
      const f = m.latent.factor;
      // when the output size is whole latent pixels, the blend keeps just those (no copy to crop)
      const out =
        (H * s) % f === 0 && (W * s) % f === 0
          ? await generate(p, cond, steps, notes, null, undefined, { height: (H * s) / f, width: (W * s) / f })
          : crop(await generate(p, cond, steps, notes, null), 0, 0, H * s, W * s);
      if (m.sharpen) {
        // in place, a band of rows at a time: a second copy of a 2 MP ×4 result would cost 384 MB
        p.ctx.progress({ stage: 'finishing', message: 'sharpening' });
        unsharpInPlace(out, m.sharpen);
        notes.push(`sharpened (unsharp mask σ ${m.sharpen.sigma} px, amount ${m.sharpen.amount}), as chosen on the pack's validation data`);
      }
      return out;
    },
    async wholeImage(p, x, steps, notes) {
      const out = await wholeImage(p, align, x, steps, notes);
      const grey = p.request.tool === 'edit' ? achromaticEdit(p) : null;
      if (grey) {
        greyAtLumaInPlace(out);
        notes.push(`"${grey}" is an edit whose every training target is grey: the result is made grey at its own luminance`);
      }
      return out;
    },
    async fill(p, image, mask, steps, notes) {
      // the pack's hole fill is also its residual base: a 'telea' pack adds its change to the classic fill
      const cond = inpaintCondition(image, mask, m.latent.factor, m.holeFill ?? 'zero');
      checkConditionWidth(p, cond);
      const n = distinctDraws(startTemperature(m.sampler), steps, m.fillSamples ?? 1);
      if (n === 1) return generate(p, cond, steps, notes, null);
      notes.push(`fill: the mean of ${n} samples${m.sampler.antithetic ? ' (antithetic pairs)' : ''}`);
      return meanOfSamples(p, cond, steps, notes, null, n);
    },
  };
}

async function wholeImage(p: PipelineInput, align: number, x: F32Tensor, steps: number, notes: string[]): Promise<F32Tensor> {
  const m = p.model.manifest;
  const [, , H, W] = x.shape as [number, number, number, number];
  const r = m.latent.factor;
  const tool = p.request.tool;
  // An edit, or a pack that carries its change (personal looks are 'custom' carry packs), runs at
  // its working size and the change is carried to the photo, so the model's work does not grow
  // with the photo: a personal look on a 1680×1050 photo took 66 s at full size, 0.8 s here
  // (the edit pack 0.7 s).
  if (tool === 'edit' || (tool === 'custom' && m.carry)) {
    const work = workingSize(H, W, m.carry?.workingSize ?? m.tile.size, align);
    if (work.scaled) return editAtWorkingSize(p, x, work, steps, notes);
  }
  const source = tool === 'depth' && p.condition ? depthSource(p.condition, H, W, notes) : x;
  const padded = padToMultiple(source, align, 'edge').tensor;
  const cond = tool === 'depth' ? depthCondition(rgbToGrey(padded), r) : tool === 'edit' ? editCondition(padded, r) : customCondition(padded, r);
  checkConditionWidth(p, cond);
  const text = instructionEmbedding(p, notes);
  if (m.carry && tool !== 'depth') {
    const n = distinctDraws(startTemperature(m.sampler), steps, m.carry.samples);
    const out = carryEdit(x, crop(await meanOfSamples(p, cond, steps, notes, text, n), 0, 0, H, W), m.carry.radius, m.carry.space);
    clampUnitInPlace(out.data);
    notes.push(`the model's change carried onto the photo as a smooth gain/offset field (mean of ${n} sample${n > 1 ? 's' : ''}, radius ${m.carry.radius} px): detail is the original's`);
    return out;
  }
  return crop(await generate(p, cond, steps, notes, text), 0, 0, H, W);
}

/**
 * A photo larger than the pack's working size: run the edit on an area-downscaled copy, then
 * carry it to full resolution as a smooth per-pixel gain/offset field (core/image/gain-offset.ts)
 * applied to the original, so the original's fine detail survives.
 */
async function editAtWorkingSize(p: PipelineInput, x: F32Tensor, work: { height: number; width: number; scaled: boolean }, steps: number, notes: string[]): Promise<F32Tensor> {
  const [, , H, W] = x.shape as [number, number, number, number];
  // a pack that carries its change (manifest `carry`) gets the mean of its samples here too
  const n = distinctDraws(startTemperature(p.model.manifest.sampler), steps, p.model.manifest.carry?.samples ?? 1);
  const radius = p.model.manifest.carry?.radius ?? Math.max(2, Math.round(Math.min(work.height, work.width) / 32));
  const out = await carryFromWorkingSize(x, work, radius, async (low) => {
    const r = p.model.manifest.latent.factor;
    const cond = p.request.tool === 'custom' ? customCondition(low, r) : editCondition(low, r);
    checkConditionWidth(p, cond);
    return meanOfSamples(p, cond, steps, notes, instructionEmbedding(p, notes), n);
  }, p.model.manifest.carry?.space);
  notes.push(`edited at ${work.width}×${work.height}, carried to ${W}×${H} with a gain/offset field${n > 1 ? ` (mean of ${n} samples)` : ''}`);
  return out;
}

/** Sample the latent for a condition and decode it to [1, 3, H, W] in [-1, 1]. */
async function generate(p: PipelineInput, cond: F32Tensor, steps: number, notes: string[], text: Float32Array | null, draw = { seedOffset: 0, negate: false }, keep?: { height: number; width: number }): Promise<F32Tensor> {
  const latent = await sampleTiled({
    ...(keep ? { keep } : {}),
    model: p.model,
    cond,
    text,
    steps,
    seed: p.request.seed + draw.seedOffset,
    negate: draw.negate,
    ctx: p.ctx,
    maxTilePx: p.maxTile,
    notes,
  });
  p.ctx.progress({ stage: 'decoding', fraction: 1 });
  return pixelShuffle(latent, p.model.manifest.latent.factor);
}

/** The mean of the pack's `n` samples (core meanOfDraws; antithetic pairs where the pack says so); notes from the first draw only. */
async function meanOfSamples(p: PipelineInput, cond: F32Tensor, steps: number, notes: string[], text: Float32Array | null, n: number): Promise<F32Tensor> {
  let shape: number[] = [];
  const antithetic = p.model.manifest.sampler.antithetic === true;
  const data = await meanOfDraws(n, async (k) => {
    const one = await generate(p, cond, steps, k === 0 ? notes : [], text, drawOf(k, antithetic));
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

/** A separate depth map, resized (bicubic) to the output size when it differs. */
function depthSource(depth: StoredImage, H: number, W: number, notes: string[]): F32Tensor {
  const d = imageToNchw(depth);
  notes.push(`depth map ${depth.width}×${depth.height}, ${depth.depth}-bit${depth.width !== W || depth.height !== H ? `, resized to ${W}×${H}` : ''}`);
  return depth.width === W && depth.height === H ? d : resizeBicubic(d, H, W);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
