/**
 * The model's output put back into the photo and stored as the job's result: the strength mix,
 * the alpha plane carried to the output size, the inpaint paste inside the mask only, and the
 * new image in the store named after the tool. The pixel maths is core's (core/image/blend.ts).
 */
import { blend, innerFeather, pasteWeighted } from '../../../core/image/blend.ts';
import { clampZeroOne } from '../../../core/image/filters.ts';
import type { PixelBox } from '../../../core/image/mask-region.ts';
import { resizeBicubic } from '../../../core/image/resize.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import type { JobOutput } from '../jobs/queue.ts';
import { alphaPlane, nchwToPixels } from '../images/tensor.ts';
import type { PipelineInput } from './types.ts';

/** Box radius (px) of the paste weights (core innerFeather). */
export const PASTE_FEATHER_PX = 3;

/** The tool's output mixed with `base` by the request's strength (1 or omitted: the output). */
export function withStrength(p: PipelineInput, out: F32Tensor, base: F32Tensor | (() => F32Tensor)): F32Tensor {
  return blend(out, base, p.request.strength);
}

/** The input's alpha plane at H×W (bicubic, kept in [0, 1]), or null for an opaque input. */
export function alphaAt(p: PipelineInput, H: number, W: number): F32Tensor | null {
  const alpha = alphaPlane(p.input);
  if (!alpha || (H === p.input.height && W === p.input.width)) return alpha;
  const scaled = resizeBicubic(alpha, H, W);
  return { data: clampZeroOne(scaled.data), shape: scaled.shape };
}

/** Store an RGB result [1, 3, h, w] (with the alpha plane, if any) at the input's bit depth. */
export function finish(p: PipelineInput, rgb: F32Tensor, alpha: F32Tensor | null, notes: string[]): JobOutput {
  const [, , h, w] = rgb.shape as [number, number, number, number];
  const { pixels, channels } = nchwToPixels(rgb, alpha, p.input.depth);
  return store(p, { pixels, channels, width: w, height: h }, notes);
}

/**
 * Paste a fill of `region` into a copy of the photo: only pixels inside `mask` (the region's
 * plane) change, softened at its corners and thin strokes; everything else keeps its exact value.
 */
export function pasteFill(p: PipelineInput, fill: F32Tensor, mask: Float32Array, region: PixelBox, notes: string[]): JobOutput {
  const { width: W, height: H, channels } = p.input;
  const width = region.x1 - region.x0;
  const height = region.y1 - region.y0;
  const patch = nchwToPixels(fill, null, p.input.depth).pixels;
  const weights = innerFeather(mask, width, height, PASTE_FEATHER_PX);
  const out = { pixels: p.input.pixels.slice(), channels, width: W, height: H };
  pasteWeighted(out, patch, weights, { x0: region.x0, y0: region.y0, width, height });
  return store(p, out, notes);
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
