/**
 * Batch: one tool (restore or edit) over a folder, recursively, through the same requests the
 * app makes (openImage → runTool with priority 'batch' → saveImage), so a batch gets every
 * guarantee of a single run (atomic writes, metadata policy, engine restarts). The output tree
 * mirrors the input tree; the input folder is never written to; existing outputs are skipped
 * unless `overwrite`; a file that fails (corrupt, unsupported) is reported and the batch goes
 * on. Pause takes effect between files, cancel also stops the running job.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CodiApi, Result, ServerHandlers } from '../contract/api.ts';
import { fail, ok, serve } from '../contract/api.ts';
import type { ChannelOf } from '../contract/channels.ts';
import type { BatchFileResult, BatchParams, BatchProgress, BatchState, CodiEvent, ImageFormat, JobDone, JobFailed } from '../contract/schemas.ts';

/** The requests a batch makes (CodiApi in-process, or EngineHost-backed). */
export type BatchApi = Pick<CodiApi, 'openImage' | 'runTool' | 'cancelJob' | 'saveImage' | 'releaseImage' | 'onEvent'>;

const EXT_FORMAT: Record<string, ImageFormat | null> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.avif': 'avif',
  // Readable but not writable: their outputs become PNG.
  '.gif': null,
  '.bmp': null,
  '.heic': null,
  '.heif': null,
};
const FORMAT_EXT: Record<ImageFormat, string> = { png: '.png', jpeg: '.jpg', webp: '.webp', tiff: '.tiff', avif: '.avif' };

/** Image files under `dir`, recursively, sorted, as paths relative to `dir` (hidden entries and links skipped). */
export async function listImages(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? path.join(rel, e.name) : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() && path.extname(e.name).toLowerCase() in EXT_FORMAT) out.push(r);
    }
  };
  await walk('');
  return out;
}

/** Output format and relative output path of one input file. */
export function outputFor(rel: string, format: ImageFormat | undefined): { rel: string; format: ImageFormat } {
  const ext = path.extname(rel);
  const f = format ?? EXT_FORMAT[ext.toLowerCase()] ?? 'png';
  return { rel: rel.slice(0, rel.length - ext.length) + FORMAT_EXT[f], format: f };
}

/** Refuse an output folder that is the input folder or inside it (or the other way round). */
export async function checkFolders(inDir: string, outDir: string): Promise<string | null> {
  let realIn: string;
  try {
    realIn = await fs.realpath(inDir);
    if (!(await fs.stat(realIn)).isDirectory()) return `"${inDir}" is not a folder`;
  } catch {
    return `input folder "${inDir}" does not exist`;
  }
  // The output may not exist yet: resolve its nearest existing ancestor.
  let probe = path.resolve(outDir);
  const tail: string[] = [];
  for (;;) {
    try {
      probe = path.join(await fs.realpath(probe), ...tail);
      break;
    } catch {
      const parent = path.dirname(probe);
      if (parent === probe) break;
      tail.unshift(path.basename(probe));
      probe = parent;
    }
  }
  const inside = (a: string, b: string) => a === b || a.startsWith(b.endsWith(path.sep) ? b : b + path.sep);
  if (inside(probe, realIn)) return 'the output folder is the input folder or inside it; choose a folder outside the input (the input is never written to)';
  if (inside(realIn, probe)) return 'the input folder is inside the output folder; choose separate folders';
  return null;
}

type JobEnd = { done?: JobDone; failed?: JobFailed };

/** One batch run; `run()` resolves with the final progress (including the per-file report). */
export class BatchRun {
  readonly id: string;
  readonly #api: BatchApi;
  readonly #p: BatchParams;
  readonly #onProgress: (p: BatchProgress) => void;
  #files: string[] = [];
  #results: BatchFileResult[] = [];
  #state: BatchState = 'running';
  #current: string | undefined;
  #jobId: string | null = null;
  #wake: (() => void) | null = null;

  constructor(id: string, api: BatchApi, params: BatchParams, onProgress: (p: BatchProgress) => void = () => {}) {
    this.id = id;
    this.#api = api;
    this.#p = params;
    this.#onProgress = onProgress;
  }

  get state(): BatchState {
    return this.#state;
  }

  get progress(): BatchProgress {
    return {
      batchId: this.id,
      state: this.#state,
      done: this.#results.length,
      total: this.#files.length,
      succeeded: this.#results.filter((r) => r.status === 'done').length,
      ...(this.#current ? { current: this.#current } : {}),
      results: this.#results.filter((r) => r.status !== 'done'),
    };
  }

  /** Every file's outcome so far, in order (the CLI prints it). */
  get report(): BatchFileResult[] {
    return [...this.#results];
  }

  /** List the input files (call before run; returns the count). */
  async prepare(): Promise<number> {
    this.#files = await listImages(this.#p.inDir);
    return this.#files.length;
  }

  pause(): BatchState {
    if (this.#state === 'running') this.#state = 'paused';
    this.#emit();
    return this.#state;
  }

  resume(): BatchState {
    if (this.#state === 'paused') this.#state = 'running';
    this.#wake?.();
    this.#emit();
    return this.#state;
  }

  cancel(): BatchState {
    if (this.#state === 'running' || this.#state === 'paused') this.#state = 'cancelled';
    if (this.#jobId) void this.#api.cancelJob({ jobId: this.#jobId });
    this.#wake?.();
    this.#emit();
    return this.#state;
  }

  async run(): Promise<BatchProgress> {
    for (const rel of this.#files) {
      while (this.#state === 'paused') await new Promise<void>((r) => (this.#wake = r));
      if (this.#state === 'cancelled') break;
      this.#current = rel;
      this.#emit();
      this.#results.push(await this.#one(rel));
    }
    if (this.#state === 'cancelled') {
      for (const rel of this.#files.slice(this.#results.length)) {
        this.#results.push({ input: path.join(this.#p.inDir, rel), output: path.join(this.#p.outDir, outputFor(rel, this.#p.format).rel), status: 'cancelled' });
      }
    } else {
      this.#state = 'done';
    }
    this.#current = undefined;
    this.#emit();
    return this.progress;
  }

  #emit(): void {
    this.#onProgress(this.progress);
  }

  async #one(rel: string): Promise<BatchFileResult> {
    const p = this.#p;
    const input = path.join(p.inDir, rel);
    const out = outputFor(rel, p.format);
    const output = path.join(p.outDir, out.rel);
    const t0 = Date.now();
    const result = (status: BatchFileResult['status'], message?: string): BatchFileResult => ({
      input,
      output,
      status,
      ...(message ? { message } : {}),
      elapsedMs: Date.now() - t0,
    });
    if (!p.overwrite && (await fs.stat(output).then(() => true, () => false))) return result('skipped', 'output exists (pass overwrite to replace it)');
    const opened = await this.#api.openImage({ source: 'path', path: input });
    if (!opened.ok) return result('failed', opened.error.message);
    const ids = [opened.value.imageId];
    try {
      const end = await this.#job(opened.value.imageId);
      if (!end.done) {
        const f = end.failed;
        return result(f?.cancelled || this.#state === 'cancelled' ? 'cancelled' : 'failed', f ? f.message : 'the job ended without a result');
      }
      ids.push(end.done.resultImageId);
      await fs.mkdir(path.dirname(output), { recursive: true });
      const saved = await this.#api.saveImage({
        imageId: end.done.resultImageId,
        path: output,
        format: out.format,
        quality: p.quality,
        keepMetadata: p.keepMetadata,
        overwrite: p.overwrite,
      });
      return saved.ok ? result('done') : result(saved.error.code === 'exists' ? 'skipped' : 'failed', saved.error.message);
    } finally {
      for (const imageId of ids) void this.#api.releaseImage({ imageId });
    }
  }

  /** Run the tool on one image and wait for its end event (events may race runTool's reply). */
  async #job(imageId: string): Promise<JobEnd> {
    const p = this.#p;
    let jobId: string | null = null;
    const early: CodiEvent[] = [];
    let resolve!: (e: JobEnd) => void;
    const ended = new Promise<JobEnd>((r) => (resolve = r));
    const onEvent = (e: CodiEvent): void => {
      if (!jobId) {
        early.push(e);
        return;
      }
      if (e.type === 'job-done' && e.done.jobId === jobId) resolve({ done: e.done });
      if (e.type === 'job-failed' && e.failed.jobId === jobId) resolve({ failed: e.failed });
    };
    const off = this.#api.onEvent(onEvent);
    try {
      const started = await this.#api.runTool({
        tool: p.tool,
        imageId,
        seed: p.seed,
        priority: 'batch',
        ...(p.pack ? { pack: p.pack } : {}),
        ...(p.steps !== undefined ? { steps: p.steps } : {}),
        ...(p.prompt !== undefined ? { prompt: p.prompt } : {}),
        ...(p.scale !== undefined ? { scale: p.scale } : {}),
        ...(p.strength !== undefined ? { strength: p.strength } : {}),
      });
      if (!started.ok) return { failed: { jobId: 'job_none', code: started.error.code, message: started.error.message, cancelled: false } };
      jobId = started.value.jobId;
      this.#jobId = jobId;
      if (this.#state === 'cancelled') void this.#api.cancelJob({ jobId });
      for (const e of early.splice(0)) onEvent(e);
      return await ended;
    } finally {
      this.#jobId = null;
      off();
    }
  }
}

/**
 * The broker's batch channels: at most one batch at a time per broker (the engine runs one
 * job at a time anyway); progress goes out as `batch-progress` events.
 */
export class BatchManager {
  readonly #api: BatchApi;
  readonly #publish: (e: CodiEvent) => void;
  #run: BatchRun | null = null;
  #seq = 0;

  constructor(api: BatchApi, publish: (e: CodiEvent) => void) {
    this.#api = api;
    this.#publish = publish;
  }

  /** The batch channels of the contract's table, each taking its validated request. */
  readonly handlers: ServerHandlers<'batch'> = {
    startBatch: (req) => this.#start(req),
    pauseBatch: async (req) => this.#control(req.batchId, (run) => run.pause()),
    resumeBatch: async (req) => this.#control(req.batchId, (run) => run.resume()),
    cancelBatch: async (req) => this.#control(req.batchId, (run) => run.cancel()),
  };

  handle(channel: ChannelOf<'batch'>, payload: unknown): Promise<Result<unknown>> {
    return serve(this.handlers, channel, payload);
  }

  #control(batchId: string, act: (run: BatchRun) => BatchState): Result<{ state: BatchState }> {
    const run = this.#run;
    if (!run || run.id !== batchId) return fail('not-found', `no batch ${batchId}`);
    return ok({ state: act(run) });
  }

  async #start(p: BatchParams): Promise<Result<{ batchId: string; files: number }>> {
    if (this.#run && (this.#run.state === 'running' || this.#run.state === 'paused')) return fail('busy', 'a batch is already running; cancel it or wait for it to finish');
    const problem = await checkFolders(p.inDir, p.outDir);
    if (problem) return fail('invalid-request', problem);
    const id = `batch_${Date.now().toString(36)}${(this.#seq++).toString(36)}`;
    const run = new BatchRun(id, this.#api, p, (batch) => this.#publish({ type: 'batch-progress', batch }));
    let files: number;
    try {
      files = await run.prepare();
    } catch (err) {
      return fail('io', `cannot list "${p.inDir}": ${(err as Error).message}`);
    }
    this.#run = run;
    void run.run().catch((err: unknown) => {
      this.#publish({ type: 'batch-progress', batch: { ...run.progress, state: 'done', results: [...run.progress.results, { input: p.inDir, output: p.outDir, status: 'failed', message: `batch stopped: ${(err as Error).message}` }] } });
    });
    return ok({ batchId: id, files });
  }
}
