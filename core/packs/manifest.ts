/**
 * Model-pack manifest: the one schema that the exporter (training/) writes and the
 * engine (electron/engine) verifies before ONNX Runtime ever sees a file.
 * Layout on disk: native-models/<name>/manifest.json + the files it lists + MODEL_CARD.md.
 */
import { z } from 'zod';

/** A path inside the pack: relative, forward slashes, no `..`, no absolute or drive paths. */
export const packRelativePath = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (p) =>
      !p.startsWith('/') &&
      !p.startsWith('\\') &&
      !/^[A-Za-z]:/.test(p) &&
      !p.includes('\\') &&
      !p.includes('\0') &&
      p.split('/').every((seg) => seg !== '..' && seg !== '.' && seg !== ''),
    { message: 'path must stay inside the pack (relative, no "..", no absolute paths)' },
  );

export const tensorDtype = z.enum(['float32', 'float16', 'int64', 'int32', 'uint8', 'bool']);
export type TensorDtype = z.infer<typeof tensorDtype>;

/** One ONNX input or output: dims are numbers, or strings for symbolic dims (e.g. "batch"). */
export const tensorSignature = z.object({
  name: z.string().min(1).max(128),
  dtype: tensorDtype,
  shape: z.array(z.union([z.number().int().nonnegative(), z.string().min(1).max(32)])).max(8),
});
export type TensorSignature = z.infer<typeof tensorSignature>;

export const fileRole = z.enum([
  'backbone', // unconditional denoiser (v-prediction), shared across task adapters
  'adapter', // PE-CoDi conditional encoder + μ, applied to a backbone
  'denoiser', // a full conditional model in one graph (full CoDi, teacher, CM)
  'text-encoder',
  'vae-encoder',
  'vae-decoder',
  'instruction-table', // JSON: known instructions and their embeddings
  'other',
]);
export type FileRole = z.infer<typeof fileRole>;

export const packFile = z.object({
  path: packRelativePath,
  role: fileRole,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  /**
   * A denoiser graph's arithmetic. 'int8': a statically quantised copy of the pack's float
   * denoiser (same inputs and outputs), which the engine runs on the CPU provider where it
   * measured faster (core/packs/graph-choice.ts). Absent: float32.
   */
  precision: z.enum(['float32', 'int8']).optional(),
  /** ONNX files only. */
  inputs: z.array(tensorSignature).optional(),
  outputs: z.array(tensorSignature).optional(),
});
export type PackFile = z.infer<typeof packFile>;

export const packTask = z.enum(['backbone', 'restore', 'inpaint', 'edit', 'depth', 'custom']);
export type PackTask = z.infer<typeof packTask>;

export const trainingMethod = z.enum(['pretrain', 'teacher', 'codi', 'pe-codi', 'cm']);
export type TrainingMethod = z.infer<typeof trainingMethod>;

export const latentCodec = z.discriminatedUnion('kind', [
  /** Lossless space-to-depth of the [-1,1] image: C = 3·factor². */
  z.object({ kind: z.literal('pixel-unshuffle'), factor: z.number().int().min(1).max(16) }),
  /** Learned autoencoder (or an SD VAE): latents = encode(x)·scale. */
  z.object({
    kind: z.literal('autoencoder'),
    factor: z.number().int().min(1).max(64),
    channels: z.number().int().min(1).max(64),
    scale: z.number().positive(),
  }),
]);
export type LatentCodec = z.infer<typeof latentCodec>;

export const noiseSchedule = z.object({
  kind: z.enum(['scaled-linear', 'cosine', 'linear']),
  trainSteps: z.number().int().min(2).max(10000),
  betaStart: z.number().positive().optional(),
  betaEnd: z.number().positive().optional(),
});
export type NoiseScheduleSpec = z.infer<typeof noiseSchedule>;

export const samplerDefaults = z.object({
  kind: z.enum(['codi', 'codi-renoise', 'ddim', 'dpmpp-2m']),
  steps: z.number().int().min(1).max(1000),
  maxSteps: z.number().int().min(1).max(1000),
  /** N of the distillation grid (k = trainSteps / N); the sampler must use the training N. */
  distillSteps: z.number().int().min(1).max(1000).optional(),
  /**
   * Start temperature τ: sampling starts from z_T = τ·ε (core/samplers/start.ts says why), chosen
   * on the training data's validation split. Absent = 1, the diffusion prior (every older pack).
   */
  temperature: z.number().min(0).max(1).optional(),
  /**
   * Where a tool takes the mean of several draws (inpaint `fillSamples`, `carry.samples`), draw
   * them in antithetic pairs z_T, −z_T (core/samplers/start.ts drawOf), chosen on validation.
   * Absent = independent draws.
   */
  antithetic: z.boolean().optional(),
});
export type SamplerDefaults = z.infer<typeof samplerDefaults>;

/**
 * Where a pack was downloaded from (written by the Hub model manager, electron/hub): the commit
 * it was pinned to, the licence shown to the user and when they accepted it. Never a token.
 */
export const packSource = z.object({
  kind: z.literal('huggingface'),
  endpoint: z.string().max(300),
  repo: z.string().max(200),
  revision: z.string().max(100),
  licence: z.string().max(200).nullable(),
  gated: z.union([z.literal(false), z.literal('auto'), z.literal('manual')]),
  licenceAcceptedAt: z.string().max(40).nullable(),
});
export type PackSource = z.infer<typeof packSource>;

export const manifestSchema = z.object({
  schema: z.literal(1),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  version: z.string().min(1).max(32),
  title: z.string().min(1).max(120),
  task: packTask,
  method: trainingMethod,
  prediction: z.enum(['v', 'epsilon']),
  schedule: noiseSchedule,
  sampler: samplerDefaults,
  latent: latentCodec,
  /** Channels of the condition tensor at latent resolution (0 for a backbone). */
  conditionChannels: z.number().int().min(0).max(256),
  /** Width of the text/instruction embedding input (0 when the pack takes none). */
  textEmbeddingDim: z.number().int().min(0).max(4096),
  /**
   * 'condition': the model generates x − b, b = the image in the condition's first latent
   * channels; samplers add b back (core/residual.ts). Absent in older packs = 'none'.
   */
  residual: z.enum(['none', 'condition']).default('none'),
  /** k of y = k·(x − b) for residual packs (core/residual.ts); absent = 1. */
  residualScale: z.number().positive().finite().default(1),
  /**
   * Restore packs: an unsharp mask the engine applies to the model's output before the clamp
   * (core/image/unsharp.ts says why a restore tool may want one), chosen on the training data's
   * validation split (build/restore/choose-restore-start.ts). Absent = none.
   */
  sharpen: z.object({ sigma: z.number().positive().max(16), amount: z.number().min(0).max(4) }).optional(),
  /**
   * Restore packs: the kind of photo the pack is for, where the app has one ×4 tool per kind. A
   * 'damaged' pack's job says so when the photo looks clean (core/image/detail-ratio.ts), since on
   * clean photos the tool for them measured better. Absent = any photo.
   */
  restoreFor: z.enum(['clean', 'damaged']).optional(),
  /**
   * Inpaint packs: what the condition carries under the hole (core/conditions.ts HoleFill), and
   * so, with residual targets, the base the model's change is added to. 'telea': the classic
   * fill (core/image/telea.ts). Absent = 'zero', the behaviour of every older pack.
   */
  holeFill: z.enum(['zero', 'telea']).optional(),
  /**
   * Inpaint packs: the fill is the mean of this many samples (seeds seed…seed+n−1), as the edit
   * pack's carry does. Why: one sample's noise costs hole PSNR against the truth, and the mean
   * keeps what the model predicts from the surroundings; chosen on the training data's
   * validation split. Absent = 1.
   */
  fillSamples: z.number().int().min(1).max(16).optional(),
  /**
   * Inpaint packs: 'classic' when the pack measured below the classic Telea fill on its training
   * data's validation split (build/choose-fill-samples.ts): the tool then gives the classic fill
   * (core/image/telea.ts) and says so, because a user would keep the better of the two, and the
   * model is not run. Absent = 'model'.
   */
  fillSource: z.enum(['model', 'classic']).optional(),
  /**
   * 'gain-offset': the engine keeps only the smooth part of the model's change, carried onto the
   * input as a per-pixel gain/offset field of this radius in pixels (core/image/gain-offset.ts
   * carryEdit). Personal "look" adapters use it: detail stays the photo's own.
   */
  carry: z
    .object({
      kind: z.literal('gain-offset'),
      radius: z.number().int().min(1).max(256),
      /**
       * One-step samples (seeds seed…seed+n−1) averaged before the field is fitted: the mean
       * estimates the look the model learned, without the part of each sample that comes from
       * its noise (measured: +2.7 dB held-out at 4 samples, +3.2 dB at 8, on bench:adapter).
       */
      samples: z.number().int().min(1).max(16).default(1),
      /**
       * Long side (pixels) the model runs at before its change is carried to the photo; absent =
       * the tile size. Why: a convolutional model sees its position only through its receptive
       * field, so looks that depend on position (a vignette) only come out at the crop size it was
       * trained on (codi-edit, 64 px crops, val photos: corner/centre 0.92 at 256 px, 0.80 at 64 px;
       * the instruction's target 0.64).
       */
      workingSize: z.number().int().min(8).max(4096).optional(),
      /**
       * The colour space the field is fitted in (core/image/gain-offset.ts CarrySpace); absent =
       * 'rgb', every older pack's. 'opponent' lets a result without colour carry as grey.
       */
      space: z.enum(['rgb', 'opponent']).optional(),
    })
    .optional(),
  /** Output scale for restoration (×1, ×2, ×4). */
  upscale: z.number().int().min(1).max(8).default(1),
  /** Pixel tile the graph was exported for (multiple of latent factor); inference tiles to it. */
  tile: z.object({ size: z.number().int().min(8).max(4096), overlap: z.number().int().min(0).max(1024) }),
  /** For PE-CoDi adapter packs: the backbone pack they apply to, pinned by the backbone file's sha256. */
  backbone: z.object({ pack: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
  files: z
    .array(packFile)
    .min(1)
    .max(64)
    .refine((fs) => ['float32', 'int8'].every((p) => fs.filter((f) => f.role === 'denoiser' && (f.precision ?? 'float32') === p).length <= 1), {
      message: 'a pack has at most one denoiser graph of each precision',
    })
    .refine((fs) => !fs.some((f) => f.precision === 'int8') || fs.some((f) => f.role === 'denoiser' && (f.precision ?? 'float32') === 'float32'), {
      message: 'an int8 denoiser is a copy of the float one: the float denoiser must be in the pack too',
    }),
  modelCard: packRelativePath,
  /** Provenance of a pack pulled from a model hub; absent for bundled, trained and hand-imported packs. */
  source: packSource.optional(),
  /** Training summary for the model card and UI (steps, wall time, metrics). */
  training: z
    .object({
      steps: z.number().int().nonnegative(),
      wallSeconds: z.number().nonnegative(),
      metrics: z.record(z.string(), z.number()).optional(),
      data: z.string().max(2000).optional(),
      /** sha256 of the training data set's source list (training/data/sources-fingerprint.ts); absent in older packs. */
      sources: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    })
    .optional(),
});
export type PackManifest = z.infer<typeof manifestSchema>;

/** Parse untrusted manifest JSON text; throws a readable error. */
export function parseManifest(text: string): PackManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`manifest.json is not valid JSON: ${(err as Error).message}`);
  }
  const res = manifestSchema.safeParse(raw);
  if (!res.success) {
    const first = res.error.issues[0];
    throw new Error(`manifest.json is invalid at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'unknown'}`);
  }
  return res.data;
}
