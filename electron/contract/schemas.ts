/**
 * Zod schemas for every request, response and event of the contract. Every process that
 * receives a message from a less trusted one (main from the renderer, the web server from a
 * socket, the engine from the broker) parses it with these before acting on it.
 * Pixels are always `Uint8Array` (structured clone in Electron IPC, binary frames on the
 * WebSocket), never base64 in JSON.
 */
import { z } from 'zod';
import { packTask } from '../../core/packs/manifest.ts';
import type { ChannelName } from './channels.ts';
import { PERSONAL_SCHEMAS, personalProgress } from './personal-schemas.ts';

// ───────────────────────── shared pieces ─────────────────────────

/** Opaque id of an image held by the engine (opened images and job results share the space). */
export const imageId = z.string().regex(/^img_[A-Za-z0-9_-]{1,64}$/, 'not an image id');
export const jobId = z.string().regex(/^job_[A-Za-z0-9_-]{1,64}$/, 'not a job id');
export const packName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'not a pack name');
/** Bytes on the wire; Node's Buffer is a Uint8Array too. */
export const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected binary data (Uint8Array)' });
/** A local file path chosen by the user (absolute or relative to the engine's cwd for the CLI). */
export const filePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'path contains a NUL byte');

/** Largest side any image may have on the wire; the decoder enforces its own pixel limit too. */
export const MAX_IMAGE_SIDE = 32768;
const side = z.number().int().min(1).max(MAX_IMAGE_SIDE);

export const errorCode = z.enum([
  'invalid-request', // payload failed the schema
  'forbidden', // sender / origin not allowed
  'not-found', // unknown job, pack, file or condition image
  'image-gone', // the request's own imageId is no longer held (evicted, or the engine restarted): the sender may upload the pixels again
  'exists', // refusing to overwrite
  'is-original', // refusing to replace a file open as the original until that is confirmed on its own
  'unsupported', // not available in this mode (e.g. native dialogs in web mode)
  'pack-invalid', // pack failed verification
  'decode-failed',
  'io', // file system error
  'cancelled',
  'engine-crashed', // the engine process died during the request
  'engine-unavailable', // engine restarting / not started
  'busy', // queue full
  'internal',
]);
export type ErrorCode = z.infer<typeof errorCode>;

export const errorInfo = z.object({ code: errorCode, message: z.string().max(4000) });
export type ErrorInfo = z.infer<typeof errorInfo>;

/** `{ok: true, value} | {ok: false, error}`: errors cross IPC as data, never as thrown objects. */
export function resultOf<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: errorInfo }),
  ]);
}

export const executionProvider = z.enum(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
export type ExecutionProvider = z.infer<typeof executionProvider>;

// ───────────────────────── getAppInfo ─────────────────────────

export const getAppInfoRequest = z.object({}).strict();
export const appInfo = z.object({
  mode: z.enum(['electron', 'web', 'cli']),
  version: z.string(),
  /** True when pickOpenPath / pickSavePath open native dialogs. */
  nativeDialogs: z.boolean(),
  /** True when saveImage may write to a path (always, except in a future remote web mode). */
  canSaveToPath: z.boolean(),
  /**
   * Absolute folder for a new file when the image's own folder is unknown (dropped, pasted or
   * uploaded in web mode): a relative name would land in the server's working folder.
   */
  saveFolder: z.string().max(4096).optional(),
});
export type AppInfo = z.infer<typeof appInfo>;

// ───────────────────────── listPacks ─────────────────────────

export const listPacksRequest = z
  .object({
    /** Re-read the pack folders first (a personal adapter was just trained or imported). */
    rescan: z.boolean().optional(),
  })
  .strict();
export const packInfo = z.object({
  name: packName,
  title: z.string(),
  version: z.string(),
  task: packTask,
  method: z.string(),
  /** Where it was found. */
  source: z.enum(['bundled', 'user']),
  steps: z.object({ default: z.number().int().min(1), max: z.number().int().min(1) }),
  upscale: z.number().int().min(1),
  /** True when the tool takes an instruction/prompt. */
  takesText: z.boolean(),
  /** Known instructions from the pack's instruction table (edit packs), if any. */
  instructions: z.array(z.string()).max(4096),
  /** 'ok' = usable; 'invalid' = refused by verification (see problem). */
  status: z.enum(['ok', 'invalid']),
  problem: z.string().optional(),
  /** For adapter packs: the backbone pack they need. */
  backbone: z.string().optional(),
  /** Held-out PSNR per step count and of the unchanged input, from the manifest (core/packs/measured-steps.ts). */
  measured: z
    .object({
      steps: z.array(z.object({ steps: z.number().int().min(1), psnrDb: z.number() })).max(64),
      inputPsnrDb: z.number().optional(),
    })
    .optional(),
});
export type PackInfo = z.infer<typeof packInfo>;
export const listPacksResponse = z.object({
  packs: z.array(packInfo),
  /** The execution provider the engine uses (after fallback), and the ones it tried. */
  provider: z.object({ active: executionProvider, tried: z.array(z.string()), note: z.string().optional() }),
});
export type ListPacksResponse = z.infer<typeof listPacksResponse>;

// ───────────────────────── openImage ─────────────────────────

export const openImageRequest = z.discriminatedUnion('source', [
  z.object({ source: z.literal('path'), path: filePath }).strict(),
  /** Drag-and-drop, paste, web upload: the encoded file bytes. */
  z
    .object({
      source: z.literal('bytes'),
      bytes,
      name: z.string().max(255).optional(),
    })
    .strict(),
]);
export type OpenImageRequest = z.infer<typeof openImageRequest>;

export const imageMetadata = z.object({
  name: z.string(),
  format: z.string(),
  bitDepth: z.union([z.literal(8), z.literal(16)]),
  channels: z.number().int().min(1).max(4),
  hasAlpha: z.boolean(),
  /** The source carried an ICC profile (converted to sRGB on decode). */
  hadIcc: z.boolean(),
  /** EXIF orientation of the source (already applied to the pixels). */
  orientation: z.number().int().min(1).max(8).optional(),
  /** The source carried EXIF/XMP metadata (kept on save only when asked). */
  hasMetadata: z.boolean(),
  fileBytes: z.number().int().nonnegative().optional(),
  /** What the import did that the user should know (only the first frame of an animation, CMYK → sRGB, …). */
  notes: z.array(z.string().max(500)).max(16).optional(),
});
export type ImageMetadata = z.infer<typeof imageMetadata>;

export const openImageResponse = z.object({
  imageId,
  width: side,
  height: side,
  metadata: imageMetadata,
});
export type OpenImageResponse = z.infer<typeof openImageResponse>;

// ───────────────────────── getImagePixels / releaseImage ─────────────────────────

export const getImagePixelsRequest = z
  .object({
    imageId,
    /** Downscale so that the longer side is at most this (preview); omitted = full size. */
    maxSide: side.optional(),
  })
  .strict();
export const imagePixels = z.object({
  imageId,
  width: side,
  height: side,
  /** Row-major RGBA, 8 bits per channel, width·height·4 bytes. */
  rgba: bytes,
});
export type ImagePixels = z.infer<typeof imagePixels>;

export const releaseImageRequest = z.object({ imageId }).strict();
export const releaseImageResponse = z.object({ released: z.boolean() });

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

// ───────────────────────── saving ─────────────────────────

export const imageFormat = z.enum(['png', 'jpeg', 'webp', 'tiff', 'avif']);
export type ImageFormat = z.infer<typeof imageFormat>;

const encodeOptions = {
  imageId,
  format: imageFormat,
  /** Lossy formats only; 1..100. */
  quality: z.number().int().min(1).max(100).default(95),
  /** Keep EXIF/ICC of the source; off by default (privacy: GPS etc.). */
  keepMetadata: z.boolean().default(false),
  /** 16 bits per channel where the format allows it and the image has it. */
  bitDepth: z.union([z.literal(8), z.literal(16)]).default(8),
};

export const saveImageRequest = z
  .object({
    ...encodeOptions,
    path: filePath,
    /** Off by default: an existing file is never replaced unless asked for. */
    overwrite: z.boolean().default(false),
    /**
     * The user confirmed, on its own, replacing a file that is open as an original (the engine
     * decides which files those are). Its bytes are kept (trash or backup folder) first.
     */
    replaceOriginal: z.boolean().default(false),
  })
  .strict();
export type SaveImageRequest = z.input<typeof saveImageRequest>;
export const saveImageResponse = z.object({
  path: z.string(),
  bytes: z.number().int().nonnegative(),
  /** Where the replaced original's exact bytes were kept. */
  keptOriginal: z.object({ place: z.enum(['trash', 'backup']), path: z.string() }).optional(),
});

/** Encode without touching the disk (web download, clipboard copy). */
export const encodeImageRequest = z.object(encodeOptions).strict();
export type EncodeImageRequest = z.input<typeof encodeImageRequest>;
export const encodeImageResponse = z.object({ bytes, mime: z.string() });

// ───────────────────────── native dialogs (Electron shell only) ─────────────────────────

export const pickOpenPathRequest = z.object({}).strict();
export const pickSavePathRequest = z
  .object({ defaultName: z.string().max(255).optional(), format: imageFormat.optional() })
  .strict();
export const pickPathResponse = z.object({ path: z.string().nullable() });

// ───────────────────────── batch (a folder through one tool) ─────────────────────────

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

// ───────────────────────── autosave (session recovery) ─────────────────────────

/** Largest autosave the broker accepts (encoded image + mask). */
export const MAX_AUTOSAVE_BYTES = 512 * 1024 * 1024;

/** The editing session as the renderer saves it: what is needed to put it back after a crash. */
export const autosaveSession = z
  .object({
    /** Document name and the file it came from (null for pasted/dropped images). */
    name: z.string().max(255),
    path: z.string().max(4096).nullable(),
    width: side,
    height: side,
    /** When the renderer took the snapshot (ms since the epoch). */
    savedAt: z.number().int().nonnegative(),
    /** The current pixels, PNG. */
    image: bytes.refine((b) => b.byteLength > 0 && b.byteLength <= MAX_AUTOSAVE_BYTES, 'image must be 1 byte to 512 MiB'),
    /** The mask as a grey PNG (white = fill); omitted when nothing is painted. */
    mask: bytes.refine((b) => b.byteLength <= MAX_AUTOSAVE_BYTES, 'mask too large').optional(),
    /** History summary and tool settings as JSON text (the renderer's own shape). */
    state: z.string().max(65536),
  })
  .strict();
export type AutosaveSession = z.infer<typeof autosaveSession>;
export const writeAutosaveRequest = z.object({ session: autosaveSession }).strict();
export const writeAutosaveResponse = z.object({ bytes: z.number().int().nonnegative() });
export const readAutosaveRequest = z.object({}).strict();
export const readAutosaveResponse = z.object({ session: autosaveSession.nullable() });
export const clearAutosaveRequest = z.object({}).strict();
export const clearAutosaveResponse = z.object({ cleared: z.boolean() });

// ───────────────────────── events ─────────────────────────

export const engineState = z.enum(['starting', 'ready', 'restarting', 'crashed']);
export type EngineState = z.infer<typeof engineState>;
export const engineStatus = z.object({
  state: engineState,
  provider: executionProvider.optional(),
  message: z.string().optional(),
});
export type EngineStatus = z.infer<typeof engineStatus>;

export const codiEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job-progress'), progress: jobProgress }),
  z.object({ type: z.literal('job-done'), done: jobDone }),
  z.object({ type: z.literal('job-failed'), failed: jobFailed }),
  z.object({ type: z.literal('engine-status'), status: engineStatus }),
  z.object({ type: z.literal('batch-progress'), batch: batchProgress }),
  z.object({ type: z.literal('personal-progress'), personal: personalProgress }),
]);
export type CodiEvent = z.infer<typeof codiEvent>;

// ───────────────────────── the table ─────────────────────────

/** Request and response schema of every channel: the single source the wrappers validate with. */
export const SCHEMAS = {
  getAppInfo: { request: getAppInfoRequest, response: appInfo },
  listPacks: { request: listPacksRequest, response: listPacksResponse },
  openImage: { request: openImageRequest, response: openImageResponse },
  getImagePixels: { request: getImagePixelsRequest, response: imagePixels },
  releaseImage: { request: releaseImageRequest, response: releaseImageResponse },
  runTool: { request: runToolRequest, response: runToolResponse },
  cancelJob: { request: cancelJobRequest, response: cancelJobResponse },
  jobStatus: { request: jobStatusRequest, response: jobInfo },
  saveImage: { request: saveImageRequest, response: saveImageResponse },
  encodeImage: { request: encodeImageRequest, response: encodeImageResponse },
  pickOpenPath: { request: pickOpenPathRequest, response: pickPathResponse },
  pickSavePath: { request: pickSavePathRequest, response: pickPathResponse },
  startBatch: { request: startBatchRequest, response: startBatchResponse },
  pauseBatch: { request: batchControlRequest, response: batchControlResponse },
  resumeBatch: { request: batchControlRequest, response: batchControlResponse },
  cancelBatch: { request: batchControlRequest, response: batchControlResponse },
  writeAutosave: { request: writeAutosaveRequest, response: writeAutosaveResponse },
  readAutosave: { request: readAutosaveRequest, response: readAutosaveResponse },
  clearAutosave: { request: clearAutosaveRequest, response: clearAutosaveResponse },
  ...PERSONAL_SCHEMAS,
} as const satisfies Record<ChannelName, { request: z.ZodType; response: z.ZodType }>;

/** What the caller passes (defaults not yet applied). */
export type RequestOf<C extends ChannelName> = z.input<(typeof SCHEMAS)[C]['request']>;
/** What a handler receives after validation (defaults applied). */
export type ParsedRequestOf<C extends ChannelName> = z.output<(typeof SCHEMAS)[C]['request']>;
export type ResponseOf<C extends ChannelName> = z.output<(typeof SCHEMAS)[C]['response']>;
