/** Running a tool as a job, and the job's progress, result, failure, status and cancel. */
import { z } from 'zod';
import { packTask } from '../../../core/packs/manifest.ts';
import { bytes, errorCode, imageId, jobId, packName, side } from './common.ts';

// ───────────────────────── runTool ─────────────────────────

export const jobPriority = z.enum(['interactive', 'batch']);
export type JobPriority = z.infer<typeof jobPriority>;

/** A mask aligned with the image: 8-bit, one byte per pixel, 255 (≥ 128) = fill, 0 = keep. */
export const maskData = z
  .object({ width: side, height: side, data: bytes })
  .refine((m) => m.data.length === m.width * m.height, 'mask data must be width·height bytes');
export type MaskData = z.infer<typeof maskData>;

export const runToolRequest = z
  .object({
    /** The tool (= pack task). */
    tool: packTask.exclude(['backbone']),
    /** A specific pack; omitted = the first usable pack for the tool (and scale). */
    pack: packName.optional(),
    imageId,
    mask: maskData.optional(),
    /**
     * Depth tool: an opened depth map (8- or 16-bit, near = bright) to generate from, resized to
     * the image's size if needed; omitted = the image itself is the depth map.
     */
    condition: imageId.optional(),
    /**
     * Instruction for edit packs (matched against the pack's instruction table), or the free
     * text prompt of a diffusers (Stable-Diffusion-class) pack.
     */
    prompt: z.string().max(500).optional(),
    /** Diffusers packs: what the result should not look like (the unconditional branch's text). */
    negativePrompt: z.string().max(500).optional(),
    /** Diffusers packs: classifier-free text guidance scale w (1 = none); omitted = the pack's default. */
    guidanceScale: z.number().min(0).max(50).optional(),
    /** Diffusers InstructPix2Pix packs: image guidance scale; omitted = the pack's default. */
    imageGuidanceScale: z.number().min(0).max(50).optional(),
    /** Denoising steps; omitted = the pack's default. At most the pack's limit, checked by the engine (core/packs/step-limit.ts). */
    steps: z.number().int().min(1).optional(),
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    /** Restore upscale factor; must match the pack's upscale (×1, ×2, ×4). */
    scale: z.number().int().min(1).max(8).optional(),
    /** 0..1 blend of the result over the input (1 = full effect). */
    strength: z.number().min(0).max(1).optional(),
    priority: jobPriority.default('interactive'),
  })
  .strict();
export type RunToolRequest = z.input<typeof runToolRequest>;
export type RunToolParams = z.output<typeof runToolRequest>;
export const runToolResponse = z.object({ jobId });
export type RunToolResponse = z.infer<typeof runToolResponse>;

// ───────────────────────── jobs ─────────────────────────

export const jobStage = z.enum(['queued', 'loading', 'preparing', 'denoising', 'decoding', 'retrying', 'finishing']);
export type JobStage = z.infer<typeof jobStage>;

export const jobProgress = z.object({
  jobId,
  stage: jobStage,
  /** Denoising step i of N (1-based i), when denoising. */
  step: z.object({ i: z.number().int().min(0), n: z.number().int().min(1) }).optional(),
  /** Tile i of M (1-based i), when the image is processed in tiles. */
  tile: z.object({ i: z.number().int().min(0), m: z.number().int().min(1) }).optional(),
  /** Estimated remaining milliseconds (null until there is a measurement). */
  etaMs: z.number().nonnegative().nullable(),
  message: z.string().max(500).optional(),
});
export type JobProgress = z.infer<typeof jobProgress>;

export const jobState = z.enum(['queued', 'running', 'done', 'failed', 'cancelled']);
export type JobState = z.infer<typeof jobState>;

export const jobDone = z.object({
  jobId,
  resultImageId: imageId,
  width: side,
  height: side,
  elapsedMs: z.number().nonnegative(),
  /** Every fallback taken (smaller tiles, CPU provider, …) and other facts worth showing. */
  notes: z.array(z.string()),
});
export type JobDone = z.infer<typeof jobDone>;

export const jobFailed = z.object({
  jobId,
  code: errorCode,
  message: z.string(),
  cancelled: z.boolean(),
});
export type JobFailed = z.infer<typeof jobFailed>;

export const cancelJobRequest = z.object({ jobId }).strict();
export const cancelJobResponse = z.object({ state: jobState });

export const jobStatusRequest = z.object({ jobId }).strict();
export const jobInfo = z.object({
  jobId,
  state: jobState,
  tool: z.string(),
  pack: z.string(),
  priority: jobPriority,
  progress: jobProgress.optional(),
  done: jobDone.optional(),
  failed: jobFailed.optional(),
});
export type JobInfo = z.infer<typeof jobInfo>;
