/**
 * The engine's request handlers: one method per contract channel, each taking an already
 * validated request and returning a Result. Owns the pack registry, the image store and the
 * job queue; runs inside the engine process only.
 */
import { depthMapProblem } from '../../core/image/depth-map.ts';
import { maskFit, resizeMask } from '../../core/image/mask-size.ts';
import { stepsProblem } from '../../core/packs/step-limit.ts';
import { fail, ok } from '../contract/api.ts';
import type { Result, ServerHandlers } from '../contract/api.ts';
import type { CodiEvent, PackInfo } from '../contract/schemas.ts';
import type { ImageCodec } from './images/codec.ts';
import { OpenOriginals } from './images/originals.ts';
import { ImageStore, toRgba8 } from './images/store.ts';
import { JobError, JobQueue } from './jobs/queue.ts';
import type { OrtRuntime } from './ort.ts';
import { PackRegistry, toPackInfo } from './packs/registry.ts';
import type { PackDir } from './packs/registry.ts';
import { PackError } from './packs/verify.ts';
import { runPipeline } from './pipelines/run.ts';

export interface EngineServiceOptions {
  packDirs: PackDir[];
  runtime: OrtRuntime;
  codec: ImageCodec;
  emit(event: CodiEvent): void;
  /** Called when a job starts computing (the broker's watchdog). */
  onJobRunning?(jobId: string): void;
  imageBudgetBytes?: number;
  maxTile?: number;
}

/** The engine answers exactly the channels the contract's table assigns to 'engine'. */
export type EngineHandlers = ServerHandlers<'engine'>;

export class EngineService {
  readonly registry: PackRegistry;
  readonly images: ImageStore;
  readonly queue: JobQueue;
  /** Files open as originals, by image id: saving over one needs its own confirmation. */
  readonly originals = new OpenOriginals();
  private readonly instructionCache = new Map<string, string[]>();

  constructor(private readonly opts: EngineServiceOptions) {
    this.registry = new PackRegistry(opts.packDirs, opts.runtime);
    this.images = new ImageStore(opts.imageBudgetBytes);
    this.queue = new JobQueue({
      started: (jobId) => opts.onJobRunning?.(jobId),
      progress: (progress) => opts.emit({ type: 'job-progress', progress }),
      done: (done) => opts.emit({ type: 'job-done', done }),
      failed: (failed) => opts.emit({ type: 'job-failed', failed }),
    });
  }

  async init(): Promise<void> {
    await this.registry.scan();
  }

  readonly handlers: EngineHandlers = {
    listPacks: async (req) => {
      if (req.rescan) await this.registry.scan();
      const packs: PackInfo[] = [];
      for (const rec of this.registry.list()) packs.push(toPackInfo(rec, await this.instructionsOf(rec.name)));
      return ok({ packs, provider: this.opts.runtime.providerInfo() });
    },

    openImage: async (req) => {
      try {
        const decoded = await this.opts.codec.decode(req.source === 'path' ? { path: req.path } : { bytes: req.bytes, name: req.name });
        const img = this.images.put(decoded);
        this.originals.add(img.id, req.source === 'path' ? { path: req.path } : { bytes: req.bytes });
        return ok({ imageId: img.id, width: img.width, height: img.height, metadata: img.metadata });
      } catch (err) {
        return fail(codeOf(err, 'decode-failed'), messageOf(err));
      }
    },

    getImagePixels: async (req) => {
      const img = this.images.get(req.imageId);
      if (!img) return fail('image-gone', `no image ${req.imageId} (it may have been evicted or the engine restarted)`);
      const { width, height, rgba } = toRgba8(img, req.maxSide);
      return ok({ imageId: img.id, width, height, rgba });
    },

    releaseImage: async (req) => {
      this.originals.remove(req.imageId);
      return ok({ released: this.images.delete(req.imageId) });
    },

    runTool: async (req) => {
      const input = this.images.get(req.imageId);
      if (!input) return fail('image-gone', `no image ${req.imageId}`);
      const pack = this.choosePack(req.tool, req.pack, req.scale);
      if (!pack.ok) return pack;
      const maxSteps = this.registry.get(pack.value)?.manifest?.sampler.maxSteps;
      const stepsIssue = req.steps !== undefined && maxSteps !== undefined ? stepsProblem(req.steps, { name: pack.value, maxSteps }) : null;
      if (stepsIssue) return fail('invalid-request', stepsIssue);
      // A mask of another size: the rule the editor applies when it loads a mask picture.
      let request = req;
      const inputNotes: string[] = [];
      if (req.mask) {
        const fit = maskFit(req.mask, input);
        if (fit.kind === 'refuse') return fail('invalid-request', fit.message);
        if (fit.kind === 'scale') {
          request = { ...req, mask: { width: input.width, height: input.height, data: resizeMask(req.mask.data, req.mask, input) } };
          inputNotes.push(fit.note);
        }
      }
      if (req.tool === 'inpaint' && !req.mask) return fail('invalid-request', 'inpaint needs a mask');
      const condition = req.condition ? this.images.get(req.condition) : undefined;
      if (req.condition && !condition) return fail('not-found', `no image ${req.condition} (the condition)`);
      if (req.condition && req.tool !== 'depth') return fail('invalid-request', `the ${req.tool} tool takes no condition image`);
      if (req.tool === 'depth') {
        const map = condition ?? input;
        const problem = depthMapProblem({ width: map.width, height: map.height, channels: map.channels, maxValue: map.depth === 16 ? 65535 : 255, pixels: map.pixels });
        if (problem) return fail('invalid-request', problem);
      }
      try {
        const jobId = this.queue.submit({
          tool: req.tool,
          pack: pack.value,
          priority: req.priority,
          run: async (ctx) => {
            ctx.progress({ stage: 'loading', message: `loading ${pack.value}` });
            const model = await this.registry.load(pack.value).catch((err: unknown) => {
              // A pack that fails verification on load is the pack's fault, not the engine's.
              throw err instanceof PackError ? new JobError('pack-invalid', `pack "${pack.value}" cannot be used: ${err.message}`) : err;
            });
            return runPipeline({ model, input, request, ctx, store: this.images, maxTile: this.opts.maxTile, notes: inputNotes, ...(condition ? { condition } : {}) });
          },
        });
        return ok({ jobId });
      } catch (err) {
        return fail(codeOf(err, 'internal'), messageOf(err));
      }
    },

    cancelJob: async (req) => {
      const info = this.queue.cancel(req.jobId);
      if (!info) return fail('not-found', `no job ${req.jobId}`);
      return ok({ state: info.state });
    },

    jobStatus: async (req) => {
      const info = this.queue.status(req.jobId);
      if (!info) return fail('not-found', `no job ${req.jobId}`);
      return ok(info);
    },

    saveImage: async (req) => {
      const img = this.images.get(req.imageId);
      if (!img) return fail('image-gone', `no image ${req.imageId}`);
      try {
        // The engine decides what counts as an original, whatever the request claims.
        const original = await this.originals.isOriginal(req.path);
        return ok(await this.opts.codec.save(img, { ...req, original }));
      } catch (err) {
        return fail(codeOf(err, 'io'), messageOf(err));
      }
    },

    encodeImage: async (req) => {
      const img = this.images.get(req.imageId);
      if (!img) return fail('image-gone', `no image ${req.imageId}`);
      try {
        return ok(await this.opts.codec.encode(img, req));
      } catch (err) {
        return fail(codeOf(err, 'internal'), messageOf(err));
      }
    },
  };

  /** Re-open an image under a fixed id (broker replay after a restart). */
  async restoreImage(imageId: string, source: { path: string } | { bytes: Uint8Array; name?: string }): Promise<Result<true>> {
    try {
      this.images.put({ ...(await this.opts.codec.decode(source)), id: imageId });
      this.originals.add(imageId, source);
      return ok(true);
    } catch (err) {
      return fail(codeOf(err, 'decode-failed'), messageOf(err));
    }
  }

  private choosePack(tool: string, name: string | undefined, scale: number | undefined): Result<string> {
    const usable = this.registry.list().filter((r) => r.status === 'ok' && r.manifest);
    if (name) {
      const rec = this.registry.get(name);
      if (!rec) return fail('not-found', `no pack named "${name}" is installed`);
      if (rec.status !== 'ok' || !rec.manifest) return fail('pack-invalid', `pack "${name}" cannot be used: ${rec.problem}`);
      if (rec.manifest.task !== tool) return fail('invalid-request', `pack "${name}" is a ${rec.manifest.task} pack, not ${tool}`);
      if (scale !== undefined && rec.manifest.upscale !== scale) {
        return fail('invalid-request', `pack "${name}" upscales ×${rec.manifest.upscale}, not ×${scale}`);
      }
      return ok(rec.name);
    }
    const candidates = usable.filter((r) => r.manifest?.task === tool && (scale === undefined || r.manifest.upscale === scale));
    const first = candidates[0];
    if (!first) {
      const what = scale !== undefined ? `${tool} ×${scale}` : tool;
      return fail('not-found', `no installed pack provides ${what}`);
    }
    return ok(first.name);
  }

  private async instructionsOf(name: string): Promise<string[]> {
    const rec = this.registry.get(name);
    if (!rec?.manifest?.files.some((f) => f.role === 'instruction-table') || rec.status !== 'ok') return [];
    const cached = this.instructionCache.get(name);
    if (cached) return cached;
    try {
      const model = await this.registry.load(name);
      const list = [...(model.instructions?.entries.keys() ?? [])];
      this.instructionCache.set(name, list);
      return list;
    } catch {
      return [];
    }
  }
}

function codeOf(err: unknown, fallback: 'decode-failed' | 'io' | 'internal') {
  if (err instanceof JobError) return err.code;
  if (err instanceof PackError) return 'pack-invalid' as const;
  const code = (err as { code?: unknown })?.code;
  if (code === 'EEXIST') return 'exists' as const;
  if (code === 'ENOENT') return 'not-found' as const;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return 'io' as const;
  return fallback;
}

function messageOf(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}
