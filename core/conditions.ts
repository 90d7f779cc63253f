/**
 * Condition tensors of every task (CONVENTIONS.md "Conditions"), built in one place for the
 * training data loader and the inference engine. Inputs are NCHW float32 in [−1, 1]
 * (masks in {0, 1}); outputs are at latent resolution (pixel-unshuffle by the latent factor).
 * Pixel loops read typed arrays inside the sizes checked up front, hence `as number`.
 */
import type { PackTask } from './packs/manifest.ts';
import type { F32Tensor } from './tensor/ops.ts';
import { concatChannels, pixelUnshuffle, shape4 } from './tensor/layout.ts';
import { resizeBicubic } from './image/resize.ts';
import { teleaFill } from './image/telea.ts';

/** Latent factor of the "pixel-unshuffle" codec. */
export const LATENT_FACTOR = 4;

/** Condition channels per task for a latent factor r (restore/edit/custom 3r², inpaint 4r², depth r², backbone 0). */
export function conditionChannels(task: PackTask, r = LATENT_FACTOR): number {
  switch (task) {
    case 'backbone':
      return 0;
    case 'restore':
    case 'edit':
    case 'custom':
      return 3 * r * r;
    case 'inpaint':
      return 4 * r * r;
    case 'depth':
      return r * r;
  }
}

function expectChannels(x: F32Tensor, c: number, what: string): void {
  const [, C] = shape4(x);
  if (C !== c) throw new RangeError(`${what} needs ${c} channel(s), got ${C}`);
}

/**
 * restore (×s): bicubic upsample of the low-res RGB input to the output size, then
 * pixel-unshuffle → [B, 3r², outH/r, outW/r].
 */
export function restoreCondition(lowRes: F32Tensor, outHeight: number, outWidth: number, r = LATENT_FACTOR): F32Tensor {
  expectChannels(lowRes, 3, 'restore input');
  const [B, C, h, w] = shape4(lowRes);
  if (h === outHeight && w === outWidth) return pixelUnshuffle(lowRes, r);
  // One plane at a time: each plane's unshuffle is its own contiguous block of the result, so
  // only one upsampled plane is alive beside the result, not the whole upsampled image (a 2 MP
  // ×4 restore's is 384 MB). The values are those of resizing the whole image and unshuffling it.
  const out = new Float32Array(B * C * outHeight * outWidth);
  for (let p = 0; p < B * C; p++) {
    const plane = { data: lowRes.data.subarray(p * h * w, (p + 1) * h * w), shape: [1, 1, h, w] };
    out.set(pixelUnshuffle(resizeBicubic(plane, outHeight, outWidth), r).data, p * outHeight * outWidth);
  }
  return { data: out, shape: [B, C * r * r, outHeight / r, outWidth / r] };
}

/**
 * What an inpaint condition carries under the hole (pack manifest `holeFill`): 'zero' (packs
 * before 2026-12) or 'telea', the classic fill of core/image/telea.ts. With residual targets the
 * condition's image is the base b (core/residual.ts), so a 'telea' pack learns the change over
 * the classic fill and its worst case is that fill instead of a grey hole.
 */
export type HoleFill = 'zero' | 'telea';

/**
 * inpaint: the image with pixels under the mask set to 0 (or, `fill` 'telea', to the classic
 * fill), unshuffled (3r²), concatenated with the mask (1 = fill, 0 = keep) unshuffled (r²) →
 * [B, 4r², H/r, W/r]. The mask is binarised at 0.5 so soft (feathered) UI masks give the binary
 * masks the model was trained on; pixels outside it are the image's, bit for bit.
 */
export function inpaintCondition(image: F32Tensor, mask: F32Tensor, r = LATENT_FACTOR, fill: HoleFill = 'zero'): F32Tensor {
  expectChannels(image, 3, 'inpaint image');
  expectChannels(mask, 1, 'inpaint mask');
  const [B, , H, W] = shape4(image);
  const [mb, , mh, mw] = shape4(mask);
  if (mh !== H || mw !== W || (mb !== B && mb !== 1)) throw new RangeError('inpaint mask must match the image size');
  const plane = H * W;
  const m = new Float32Array(B * plane);
  const masked = new Float32Array(image.data.length);
  for (let b = 0; b < B; b++) {
    const ms = (mb === 1 ? 0 : b) * plane;
    for (let i = 0; i < plane; i++) m[b * plane + i] = (mask.data[ms + i] as number) >= 0.5 ? 1 : 0;
    for (let c = 0; c < 3; c++) {
      const o = (b * 3 + c) * plane;
      for (let i = 0; i < plane; i++) masked[o + i] = m[b * plane + i] === 1 ? 0 : (image.data[o + i] as number);
    }
  }
  const under = fill === 'telea' ? teleaFill({ data: masked, shape: [B, 3, H, W] }, { data: m, shape: [B, 1, H, W] }).data : masked;
  return concatChannels([
    pixelUnshuffle({ data: under, shape: [B, 3, H, W] }, r),
    pixelUnshuffle({ data: m, shape: [B, 1, H, W] }, r),
  ]);
}

/** edit: the source image unshuffled → [B, 3r², H/r, W/r]; the instruction embedding is a separate `text` input. */
export function editCondition(source: F32Tensor, r = LATENT_FACTOR): F32Tensor {
  expectChannels(source, 3, 'edit source');
  return pixelUnshuffle(source, r);
}

/** depth: one-channel depth map (near = 1 … far = −1) unshuffled → [B, r², H/r, W/r]. */
export function depthCondition(depth: F32Tensor, r = LATENT_FACTOR): F32Tensor {
  expectChannels(depth, 1, 'depth map');
  return pixelUnshuffle(depth, r);
}

/** custom (personal adapter): the "before" image unshuffled → [B, 3r², H/r, W/r]. */
export function customCondition(before: F32Tensor, r = LATENT_FACTOR): F32Tensor {
  expectChannels(before, 3, 'custom "before" image');
  return pixelUnshuffle(before, r);
}

/** Inputs of {@link buildCondition}, one variant per task. */
export type ConditionInput =
  | { task: 'restore'; lowRes: F32Tensor; outHeight: number; outWidth: number }
  | { task: 'inpaint'; image: F32Tensor; mask: F32Tensor; holeFill?: HoleFill }
  | { task: 'edit'; source: F32Tensor }
  | { task: 'depth'; depth: F32Tensor }
  | { task: 'custom'; before: F32Tensor };

/** Dispatch to the task's builder. */
export function buildCondition(input: ConditionInput, r = LATENT_FACTOR): F32Tensor {
  switch (input.task) {
    case 'restore':
      return restoreCondition(input.lowRes, input.outHeight, input.outWidth, r);
    case 'inpaint':
      return inpaintCondition(input.image, input.mask, r, input.holeFill ?? 'zero');
    case 'edit':
      return editCondition(input.source, r);
    case 'depth':
      return depthCondition(input.depth, r);
    case 'custom':
      return customCondition(input.before, r);
  }
}
