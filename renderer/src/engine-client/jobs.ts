import type { CodiApi, Result } from '../../../electron/contract/api.ts';
import type { CodiEvent, JobDone, JobFailed, JobProgress, RunToolRequest } from '../../../electron/contract/schemas.ts';

/** How a job ended. */
export type JobOutcome = { readonly kind: 'done'; readonly done: JobDone } | { readonly kind: 'failed'; readonly failed: JobFailed };

/** A started job: progress arrives through the callback, the outcome through `outcome`. */
export interface JobHandle {
  readonly jobId: string;
  readonly outcome: Promise<JobOutcome>;
  cancel(): Promise<void>;
}

interface Tracked {
  onProgress: (p: JobProgress) => void;
  resolve: (o: JobOutcome) => void;
}

/** Events for a job id we have not been told about yet (they can overtake runTool's reply). */
const EARLY_LIMIT = 64;

/**
 * Follows jobs through the engine's event stream. Terminal events are authoritative; when
 * the engine restarts while a job is active, the job is re-checked with jobStatus so a job
 * that died with the engine is reported as failed instead of waiting forever.
 */
export class JobTracker {
  readonly #api: CodiApi;
  readonly #active = new Map<string, Tracked>();
  readonly #early = new Map<string, CodiEvent[]>();
  readonly #off: () => void;

  constructor(api: CodiApi) {
    this.#api = api;
    this.#off = api.onEvent((e) => this.#onEvent(e));
  }

  dispose(): void {
    this.#off();
  }

  get activeCount(): number {
    return this.#active.size;
  }

  async start(req: RunToolRequest, onProgress: (p: JobProgress) => void): Promise<Result<JobHandle>> {
    const res = await this.#api.runTool(req);
    if (!res.ok) return res;
    const jobId = res.value.jobId;
    let resolve!: (o: JobOutcome) => void;
    const outcome = new Promise<JobOutcome>((r) => (resolve = r));
    const tracked: Tracked = { onProgress, resolve };
    this.#active.set(jobId, tracked);
    for (const e of this.#early.get(jobId) ?? []) this.#onEvent(e);
    this.#early.delete(jobId);
    const cancel = async (): Promise<void> => {
      const r = await this.#api.cancelJob({ jobId });
      // 'running' means the engine stops at the next step boundary and then sends job-failed;
      // 'cancelled' (or a job the engine no longer knows) will get no further event.
      if (!r.ok || r.value.state === 'cancelled') {
        this.#settle(jobId, { kind: 'failed', failed: { jobId, code: 'cancelled', message: 'Cancelled', cancelled: true } });
      }
    };
    return { ok: true, value: { jobId, outcome, cancel } };
  }

  /** Ask the engine about every active job (after a reconnect or an engine restart). */
  async recheck(): Promise<void> {
    for (const jobId of [...this.#active.keys()]) {
      const r = await this.#api.jobStatus({ jobId });
      if (!r.ok) {
        this.#settle(jobId, { kind: 'failed', failed: { jobId, code: r.error.code === 'not-found' ? 'engine-crashed' : r.error.code, message: r.error.message, cancelled: false } });
        continue;
      }
      const info = r.value;
      if (info.state === 'done' && info.done) this.#settle(jobId, { kind: 'done', done: info.done });
      else if ((info.state === 'failed' || info.state === 'cancelled') && info.failed) this.#settle(jobId, { kind: 'failed', failed: info.failed });
      else if (info.state === 'failed' || info.state === 'cancelled') {
        this.#settle(jobId, { kind: 'failed', failed: { jobId, code: info.state === 'cancelled' ? 'cancelled' : 'internal', message: `Job ${info.state}`, cancelled: info.state === 'cancelled' } });
      }
    }
  }

  /** First outcome wins; later events for the job are ignored. */
  #settle(jobId: string, o: JobOutcome): void {
    const t = this.#active.get(jobId);
    if (!t) return;
    this.#active.delete(jobId);
    t.resolve(o);
  }

  #onEvent(e: CodiEvent): void {
    if (e.type === 'engine-status') {
      if (this.#active.size > 0 && (e.status.state === 'restarting' || e.status.state === 'crashed' || e.status.state === 'ready')) {
        void this.recheck();
      }
      return;
    }
    if (e.type === 'batch-progress' || e.type === 'personal-progress' || e.type === 'pull-progress') return;
    const jobId = e.type === 'job-progress' ? e.progress.jobId : e.type === 'job-done' ? e.done.jobId : e.failed.jobId;
    const t = this.#active.get(jobId);
    if (!t) {
      const list = this.#early.get(jobId) ?? [];
      list.push(e);
      this.#early.set(jobId, list);
      while (this.#early.size > EARLY_LIMIT) this.#early.delete(this.#early.keys().next().value as string);
      return;
    }
    if (e.type === 'job-progress') t.onProgress(e.progress);
    else if (e.type === 'job-done') this.#settle(jobId, { kind: 'done', done: e.done });
    else this.#settle(jobId, { kind: 'failed', failed: e.failed });
  }
}

/** Overall fraction 0…1 from a progress event: tiles × steps when both are known. */
export function progressFraction(p: JobProgress): number | null {
  const step = p.step ? Math.min(1, Math.max(0, p.step.i / p.step.n)) : null;
  if (p.tile) {
    const done = Math.max(0, p.tile.i - 1);
    return Math.min(1, (done + (step ?? 0)) / p.tile.m);
  }
  if (step !== null) return step;
  if (p.stage === 'finishing' || p.stage === 'decoding') return 1;
  return null;
}

/** "12 s", "1 min 05 s" or null while the engine has no estimate. */
export function formatEta(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
