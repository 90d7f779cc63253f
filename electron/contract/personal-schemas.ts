/**
 * Contract of personal adapters (issue 6): train a PE-CoDi adapter from the user's own
 * before/after pairs in a worker process the broker runs, and move adapters in and out as one
 * verified file. The worker-side types live in training/personal/protocol.ts (electron/ may not
 * import training/); these schemas mirror them at the process boundary.
 */
import { z } from 'zod';

const pathString = z.string().min(1).max(4096);
const slug = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'not a pack name');

export const pairsSource = z.union([z.object({ dir: pathString }).strict(), z.object({ before: pathString, after: pathString }).strict()]);
export const alignMode = z.enum(['none', 'crop', 'resize']);
export const personalPresetId = z.enum(['tiny', 'quick', 'balanced', 'best']);
export const personalPhase = z.enum(['preparing', 'training', 'exporting', 'done', 'paused', 'cancelled', 'failed']);
export type PersonalPhase = z.infer<typeof personalPhase>;

export const pairProblem = z.object({
  kind: z.enum(['unmatched', 'corrupt', 'size-mismatch', 'duplicate', 'too-small', 'too-few', 'layout']),
  severity: z.enum(['error', 'warning']),
  file: z.string(),
  detail: z.string(),
});
export type PairProblem = z.infer<typeof pairProblem>;

export const personalPreflightRequest = z
  .object({
    source: pairsSource,
    align: alignMode.default('crop'),
    /** Measure the time estimate with a few real training steps (a few seconds). */
    estimate: z.boolean().default(true),
  })
  .strict();
export const personalPreflightResponse = z.object({
  ok: z.boolean(),
  layout: z.enum(['one-folder', 'two-folders']),
  counts: z.object({ imageFiles: z.number(), matched: z.number(), usable: z.number(), train: z.number(), val: z.number(), errors: z.number(), warnings: z.number() }),
  problems: z.array(pairProblem),
  pairs: z.array(z.string()),
  split: z.object({ train: z.array(z.string()), val: z.array(z.string()) }),
  /** PNG data URLs of the first pairs. */
  thumbs: z.array(z.object({ name: z.string(), before: z.string(), after: z.string() })),
  /** Measured: seconds per preset, the backend, seconds per step by batch size. */
  estimate: z
    .object({ backend: z.string(), seconds: z.record(z.string(), z.number()), secondsPerStep: z.record(z.string(), z.number()) })
    .optional(),
});
export type PersonalPreflightResponse = z.infer<typeof personalPreflightResponse>;

export const personalStartRequest = z
  .object({
    source: pairsSource,
    align: alignMode.default('crop'),
    preset: personalPresetId.default('quick'),
    /** The tool name the user sees. */
    title: z.string().min(1).max(80),
    /** Pack name; derived from the title when absent. */
    name: slug.optional(),
    /** Override of the preset's steps (tests). */
    steps: z.number().int().min(1).max(100_000).optional(),
  })
  .strict();
export const runIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,80}$/, 'not a run id');
export const personalRunRequest = z.object({ runId: runIdSchema }).strict();

export const lossPoint = z.object({ step: z.number(), losses: z.record(z.string(), z.number()), samplesPerSec: z.number() });
export type LossPoint = z.infer<typeof lossPoint>;
export const previewItem = z.object({ before: z.string(), output: z.string(), target: z.string() });

/** Everything the panel shows about one run. */
export const personalRunInfo = z.object({
  runId: runIdSchema,
  title: z.string(),
  name: z.string(),
  preset: z.string(),
  phase: personalPhase,
  detail: z.string().optional(),
  step: z.number(),
  totalSteps: z.number(),
  /** Whether a worker process is running it now. */
  active: z.boolean(),
  backend: z.string().optional(),
  samplesPerSec: z.number().optional(),
  etaSec: z.number().optional(),
  history: z.array(lossPoint),
  previews: z.array(previewItem),
  previewStep: z.number().optional(),
  result: z.object({ packName: z.string(), psnr: z.number(), psnrInput: z.number(), wallSeconds: z.number(), steps: z.number() }).optional(),
  error: z.string().optional(),
});
export type PersonalRunInfo = z.infer<typeof personalRunInfo>;

export const personalStatusRequest = z.object({ runId: runIdSchema.optional() }).strict();
export const personalStatusResponse = z.object({ runs: z.array(personalRunInfo) });

export const exportAdapterRequest = z.object({ pack: slug, path: pathString }).strict();
export const exportAdapterResponse = z.object({ path: z.string(), bytes: z.number() });
export const importAdapterRequest = z.object({ path: pathString, overwrite: z.boolean().default(false) }).strict();
export const importAdapterResponse = z.object({ pack: z.string() });

/** Pushed on the event channel as {type: 'personal-progress', personal}. */
export const personalProgress = z.object({
  runId: runIdSchema,
  kind: z.enum(['phase', 'backend', 'progress', 'preview', 'done', 'error', 'history']),
  run: personalRunInfo,
  /** The newest loss point (kind 'progress'), so a listener need not diff the history. */
  point: lossPoint.optional(),
});
export type PersonalProgress = z.infer<typeof personalProgress>;

export const PERSONAL_SCHEMAS = {
  personalPreflight: { request: personalPreflightRequest, response: personalPreflightResponse },
  personalStart: { request: personalStartRequest, response: personalRunInfo },
  personalPause: { request: personalRunRequest, response: personalRunInfo },
  personalResume: { request: personalRunRequest, response: personalRunInfo },
  personalCancel: { request: personalRunRequest, response: z.object({ cancelled: z.boolean() }) },
  personalStatus: { request: personalStatusRequest, response: personalStatusResponse },
  exportAdapter: { request: exportAdapterRequest, response: exportAdapterResponse },
  importAdapter: { request: importAdapterRequest, response: importAdapterResponse },
} as const;
