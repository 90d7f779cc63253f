/**
 * What the tools share: the input of one run, and the backend interface every kind of pack
 * implements for the tools (native latent graphs in native-backend.ts, diffusers pipelines in
 * diffusers-backend.ts). run.ts picks the backend once and composes what it returns with the
 * photo (compose.ts), so no tool asks which kind of pack it is running.
 */
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import type { RunToolParams } from '../../contract/schemas.ts';
import type { JobContext } from '../jobs/queue.ts';
import type { ImageStore, StoredImage } from '../images/store.ts';
import type { PackModel } from '../packs/registry.ts';

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

/**
 * One kind of pack, as the tools use it. Every generating method returns the model's image
 * [1, 3, H, W] in [-1, 1]; `notes` collects what the job reports about the run.
 */
export interface ToolBackend {
  /** Image sides the model accepts are multiples of this (px). */
  readonly pixelAlign: number;
  /** Refuses, before any work, a tool this pack does not provide. */
  checkTool(p: PipelineInput): void;
  /** The photo `x` [1, 3, H, W] upscaled by the pack's factor s: [1, 3, H·s, W·s]. */
  restore(p: PipelineInput, x: F32Tensor, steps: number, notes: string[]): Promise<F32Tensor>;
  /** The photo `x` changed as a whole (edit, depth, custom), at its own size. */
  wholeImage(p: PipelineInput, x: F32Tensor, steps: number, notes: string[]): Promise<F32Tensor>;
  /** A crop (sides multiples of pixelAlign) with its mask (1 = fill) filled, at the crop's size. */
  fill(p: PipelineInput, image: F32Tensor, mask: F32Tensor, steps: number, notes: string[]): Promise<F32Tensor>;
}

/** Packs that run through the latent path (tiled sampler over ONNX graphs). */
export type NativePack = Extract<PackModel, { kind: 'denoiser' | 'adapter' }>;
/** Stable-Diffusion-class packs that run their own pipeline. */
export type DiffusersPack = Extract<PackModel, { kind: 'diffusers' }>;
