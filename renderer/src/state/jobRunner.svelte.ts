/**
 * One engine job at a time, as the UI shows it: start it on an image (re-sent if the engine
 * lost it), follow its progress, cancel it, and fetch the result's pixels. Failures are
 * reported to the notices, worded by their error code.
 */
import type { CodiApi, JobProgress, PackInfo, RunToolRequest } from '../engine-client/index.ts';
import type { JobHandle } from '../engine-client/jobs.ts';
import { JobTracker } from '../engine-client/jobs.ts';
import type { RgbaImage } from '../editor/document.ts';
import { makeRgba } from '../editor/document.ts';
import type { ImageLedger } from './imageLedger.ts';
import type { Notices } from './notices.svelte.ts';

/** The running job as the UI shows it. */
export interface JobView {
  readonly jobId: string;
  readonly packTitle: string;
  readonly progress: JobProgress | null;
  readonly startedAt: number;
  readonly cancelling: boolean;
}

export interface JobResult {
  readonly img: RgbaImage;
  readonly imageId: string;
  readonly elapsedMs: number;
  readonly notes: string[];
}

export class JobRunner {
  readonly #tracker: JobTracker;
  readonly #api: CodiApi;
  readonly #ledger: ImageLedger;
  readonly #notices: Notices;
  #handle: JobHandle | null = null;

  job = $state.raw<JobView | null>(null);

  constructor(api: CodiApi, ledger: ImageLedger, notices: Notices) {
    this.#api = api;
    this.#ledger = ledger;
    this.#notices = notices;
    this.#tracker = new JobTracker(api);
  }

  dispose(): void {
    this.#tracker.dispose();
  }

  /** Run `req` on `image` (named `name` if it must be re-sent); the result, or null with the reason shown. */
  async run(pack: PackInfo, image: RgbaImage, name: string, req: RunToolRequest): Promise<JobResult | null> {
    this.job = { jobId: '', packTitle: pack.title, progress: null, startedAt: performance.now(), cancelling: false };
    const started = await this.#ledger.withImage(image, name, (imageId) =>
      this.#tracker.start({ ...req, imageId }, (p) => {
        if (this.job && this.job.jobId === p.jobId) this.job = { ...this.job, progress: p };
      }),
    );
    if (!started.ok) {
      this.job = null;
      this.#notices.failed(started.error, `start ${pack.title}`);
      return null;
    }
    this.#handle = started.value;
    this.job = { ...this.job, jobId: started.value.jobId };
    const outcome = await started.value.outcome;
    this.#handle = null;
    if (outcome.kind === 'failed') {
      this.job = null;
      const f = outcome.failed;
      if (f.cancelled || f.code === 'cancelled') this.#notices.info(`${pack.title} cancelled.`);
      else if (f.code === 'engine-crashed') this.#notices.error(`The engine stopped unexpectedly while running ${pack.title}, so it did not finish. The engine restarts by itself; you can run the tool again once it is ready.`);
      else this.#notices.failed({ code: f.code, message: f.message }, `run ${pack.title}`);
      return null;
    }
    const done = outcome.done;
    const px = await this.#api.getImagePixels({ imageId: done.resultImageId });
    this.job = null;
    if (!px.ok) {
      this.#notices.failed(px.error, 'fetch the result');
      return null;
    }
    const img = makeRgba(px.value.width, px.value.height, new Uint8ClampedArray(px.value.rgba.buffer, px.value.rgba.byteOffset, px.value.rgba.byteLength));
    this.#ledger.remember(img, done.resultImageId);
    return { img, imageId: done.resultImageId, elapsedMs: done.elapsedMs, notes: done.notes };
  }

  async cancel(): Promise<void> {
    const h = this.#handle;
    if (!h || !this.job || this.job.cancelling) return;
    this.job = { ...this.job, cancelling: true };
    await h.cancel();
  }
}
