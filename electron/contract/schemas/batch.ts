/** A folder through one tool: start, pause, resume, cancel, and the progress report. */
import { z } from 'zod';
import { filePath, packName } from './common.ts';
import { imageFormat } from './files.ts';

export const batchId = z.string().regex(/^batch_[A-Za-z0-9_-]{1,64}$/, 'not a batch id');

export const startBatchRequest = z
  .object({
    /** restore, edit or a personal adapter (custom): the tools that need nothing per file but the image. */
    tool: z.enum(['restore', 'edit', 'custom']),
    pack: packName.optional(),
    /** Read recursively; never written to. */
    inDir: filePath,
    /** The output tree mirrors the input tree; must not be inside the input folder. */
    outDir: filePath,
    prompt: z.string().max(500).optional(),
    /** At most the pack's limit, checked by the engine for each image (core/packs/step-limit.ts). */
    steps: z.number().int().min(1).optional(),
    seed: z.number().int().min(0).max(0xffffffff).default(0),
    scale: z.number().int().min(1).max(8).optional(),
    strength: z.number().min(0).max(1).optional(),
    /** Output format; omitted = the input's own format where it can be written, else PNG. */
    format: imageFormat.optional(),
    quality: z.number().int().min(1).max(100).default(95),
    keepMetadata: z.boolean().default(false),
    /** Off by default: existing outputs are skipped. */
    overwrite: z.boolean().default(false),
  })
  .strict();
export type StartBatchRequest = z.input<typeof startBatchRequest>;
export type BatchParams = z.output<typeof startBatchRequest>;
export const startBatchResponse = z.object({ batchId, files: z.number().int().nonnegative() });
export const batchControlRequest = z.object({ batchId }).strict();
export const batchState = z.enum(['running', 'paused', 'cancelled', 'done']);
export type BatchState = z.infer<typeof batchState>;
export const batchControlResponse = z.object({ state: batchState });

/** One file's outcome in a batch report. */
export const batchFileResult = z.object({
  input: z.string(),
  output: z.string(),
  status: z.enum(['done', 'skipped', 'failed', 'cancelled']),
  /** Why it failed or was skipped (decode error, exists, …). */
  message: z.string().max(2000).optional(),
  elapsedMs: z.number().nonnegative().optional(),
});
export type BatchFileResult = z.infer<typeof batchFileResult>;

export const batchProgress = z.object({
  batchId,
  state: batchState,
  /** Files finished (done, skipped or failed) of the total. */
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** Files written so far. */
  succeeded: z.number().int().nonnegative(),
  /** The file being processed now, if any. */
  current: z.string().optional(),
  /** The per-file report of every file that produced no output (failed, skipped, cancelled), in order. */
  results: z.array(batchFileResult),
});
export type BatchProgress = z.infer<typeof batchProgress>;
