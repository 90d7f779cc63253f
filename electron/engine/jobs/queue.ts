/**
 * The engine's job queue: one job computes at a time (the accelerator is shared), interactive
 * jobs before batch jobs, FIFO within a priority. Cancellation is cooperative: a queued job is
 * dropped at once, a running one sees its AbortSignal between denoising steps and tiles.
 * (A single ONNX run cannot be interrupted; the broker kills the engine if that takes too long.)
 */
import { randomBytes } from 'node:crypto';
import type { ErrorCode, JobDone, JobFailed, JobInfo, JobPriority, JobProgress, JobStage } from '../../contract/schemas.ts';
import { AbortError } from '../../../core/samplers/common.ts';

export interface JobOutput {
  resultImageId: string;
  width: number;
  height: number;
  notes: string[];
}

/** What a running job reports; `fraction` (0..1 of the whole job) drives the ETA. */
export interface ProgressReport {
  stage: JobStage;
  step?: { i: number; n: number };
  tile?: { i: number; m: number };
  fraction?: number;
  message?: string;
}

export interface JobContext {
  readonly jobId: string;
  readonly signal: AbortSignal;
  progress(report: ProgressReport): void;
}

export interface JobSpec {
  tool: string;
  pack: string;
  priority: JobPriority;
  run(ctx: JobContext): Promise<JobOutput>;
}

export interface QueueEvents {
  /** A job left the queue and began computing. */
  started?(jobId: string): void;
  progress(p: JobProgress): void;
  done(d: JobDone): void;
  failed(f: JobFailed): void;
}

/** An error with a contract error code (anything else becomes 'internal'). */
export class JobError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'JobError';
  }
}

interface Entry {
  info: JobInfo;
  spec: JobSpec;
  controller: AbortController;
  seq: number;
}

const KEEP_FINISHED = 256;

export class JobQueue {
  private readonly jobs = new Map<string, Entry>();
  private readonly pending: Entry[] = [];
  private running: Entry | null = null;
  private seq = 0;
  private readonly finished: string[] = [];

  constructor(
    private readonly events: QueueEvents,
    private readonly maxPending = 1000,
  ) {}

  submit(spec: JobSpec): string {
    if (this.pending.length >= this.maxPending) {
      throw new JobError('busy', `the queue already holds ${this.pending.length} jobs; wait for some to finish`);
    }
    const jobId = `job_${randomBytes(9).toString('base64url')}`;
    const entry: Entry = {
      info: { jobId, state: 'queued', tool: spec.tool, pack: spec.pack, priority: spec.priority },
      spec,
      controller: new AbortController(),
      seq: this.seq++,
    };
    this.jobs.set(jobId, entry);
    this.pending.push(entry);
    this.emitProgress(entry, { stage: 'queued' }, null);
    // After the current turn, so the runTool response leaves before the job's later events.
    setImmediate(() => void this.pump());
    return jobId;
  }

  status(jobId: string): JobInfo | undefined {
    return this.jobs.get(jobId)?.info;
  }

  /** Cancel; returns the state after the request (a running job becomes 'cancelled' when it stops). */
  cancel(jobId: string): JobInfo | undefined {
    const e = this.jobs.get(jobId);
    if (!e) return undefined;
    if (e.info.state === 'queued') {
      this.pending.splice(this.pending.indexOf(e), 1);
      this.finish(e, { jobId, code: 'cancelled', message: 'cancelled before it started', cancelled: true });
    } else if (e.info.state === 'running') {
      e.controller.abort();
    }
    return e.info;
  }

  get runningJobId(): string | null {
    return this.running?.info.jobId ?? null;
  }

  private next(): Entry | undefined {
    let best = -1;
    for (let i = 0; i < this.pending.length; i++) {
      const e = this.pending[i] as Entry;
      const b = best >= 0 ? (this.pending[best] as Entry) : undefined;
      if (!b || rank(e) < rank(b) || (rank(e) === rank(b) && e.seq < b.seq)) best = i;
    }
    return best >= 0 ? this.pending.splice(best, 1)[0] : undefined;
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const e = this.next();
    if (!e) return;
    this.running = e;
    e.info.state = 'running';
    this.events.started?.(e.info.jobId);
    const started = performance.now();
    const ctx: JobContext = {
      jobId: e.info.jobId,
      signal: e.controller.signal,
      progress: (r) => {
        const f = r.fraction;
        const elapsed = performance.now() - started;
        const eta = f !== undefined && f > 0.02 && f <= 1 ? (elapsed * (1 - f)) / f : null;
        this.emitProgress(e, r, eta);
      },
    };
    try {
      const out = await e.spec.run(ctx);
      if (e.controller.signal.aborted) throw new AbortError();
      const done: JobDone = {
        jobId: e.info.jobId,
        resultImageId: out.resultImageId,
        width: out.width,
        height: out.height,
        elapsedMs: Math.round(performance.now() - started),
        notes: out.notes,
      };
      e.info.state = 'done';
      e.info.done = done;
      this.retire(e);
      this.events.done(done);
    } catch (err) {
      const cancelled = e.controller.signal.aborted || err instanceof AbortError;
      const code: ErrorCode = cancelled ? 'cancelled' : err instanceof JobError ? err.code : 'internal';
      const message = cancelled ? 'cancelled' : (err as Error)?.message ?? String(err);
      this.finish(e, { jobId: e.info.jobId, code, message, cancelled });
    } finally {
      this.running = null;
      setImmediate(() => void this.pump());
    }
  }

  private finish(e: Entry, failed: JobFailed): void {
    e.info.state = failed.cancelled ? 'cancelled' : 'failed';
    e.info.failed = failed;
    this.retire(e);
    this.events.failed(failed);
  }

  private retire(e: Entry): void {
    this.finished.push(e.info.jobId);
    while (this.finished.length > KEEP_FINISHED) this.jobs.delete(this.finished.shift() as string);
  }

  private emitProgress(e: Entry, r: ProgressReport, etaMs: number | null): void {
    const p: JobProgress = {
      jobId: e.info.jobId,
      stage: r.stage,
      etaMs: etaMs === null ? null : Math.round(etaMs),
      ...(r.step ? { step: r.step } : {}),
      ...(r.tile ? { tile: r.tile } : {}),
      ...(r.message ? { message: r.message } : {}),
    };
    e.info.progress = p;
    this.events.progress(p);
  }
}

function rank(e: Entry): number {
  return e.spec.priority === 'interactive' ? 0 : 1;
}
