/**
 * EngineHost: the broker between a UI (Electron main, the web server, the CLI) and the engine
 * process. It implements the request half of CodiApi by forwarding to the engine, and it keeps
 * the engine alive:
 *
 * - the engine crashed or exited → every in-flight job fails with a readable message, the
 *   engine is restarted, and images opened from files are re-opened under their old ids;
 * - cancel of a running job that does not stop within `cancelGraceMs` (ONNX Runtime cannot
 *   interrupt a run) → kill + restart;
 * - a running job silent for `stallTimeoutMs` (no progress) → watchdog kill + restart.
 *
 * How the process is spawned is injected (`spawn`), so Electron's utilityProcess and Node's
 * child_process share this logic.
 */
import { fail, parseRequest } from '../contract/api.ts';
import type { Result } from '../contract/api.ts';
import { isServedBy } from '../contract/channels.ts';
import type { ChannelName } from '../contract/channels.ts';
import type { CodiEvent, EngineStatus, ExecutionProvider, JobFailed, RequestOf, ResponseOf } from '../contract/schemas.ts';
import type { EngineToHost, HostToEngine } from '../engine/protocol.ts';
import { isEngineToHost } from '../engine/protocol.ts';

/** A running engine process, however it was started. */
export interface EngineProcess {
  readonly pid: number | undefined;
  send(message: HostToEngine): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the process is gone (code null when killed by a signal). */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export interface EngineHostOptions {
  spawn(): EngineProcess;
  /** How long a cancelled running job may take to stop before the engine is killed. */
  cancelGraceMs?: number;
  /** Kill a running job that reports no progress for this long (a hung ONNX run). */
  stallTimeoutMs?: number;
  /** Give up restarting after this many crashes within `crashWindowMs`. */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** Requests that take longer than this fail (jobs are asynchronous; this bounds loads/decodes). */
  requestTimeoutMs?: number;
}

type Pending = { resolve(r: Result<unknown>): void; channel: string };
type Opened = { path: string } | { bytes: Uint8Array; name?: string };

/**
 * The line a console (web server, CLI) prints for an engine status, or null for the routine
 * ones: starting, ready, and the restart that stops a cancelled job. A crash, a stall and giving
 * up are said, with why.
 */
export function engineStatusLine(status: EngineStatus): string | null {
  if (status.state === 'crashed' || (status.state === 'restarting' && status.message)) return `engine ${status.state}${status.message ? `: ${status.message}` : ''}`;
  return null;
}

export class EngineHost {
  private proc: EngineProcess | null = null;
  private ready: Promise<void> | null = null;
  private readyResolve: (() => void) | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: CodiEvent) => void>();
  /** Jobs the engine accepted and has not finished. */
  private readonly activeJobs = new Set<string>();
  private runningJob: string | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private cancelTimer: NodeJS.Timeout | null = null;
  /** Images opened from files/bytes, replayed into a restarted engine under the same ids. */
  private readonly ledger = new Map<string, Opened>();
  private crashTimes: number[] = [];
  private stopping = false;
  private statusValue: EngineStatus = { state: 'starting' };
  private provider: ExecutionProvider | undefined;
  private readonly opts: Required<Omit<EngineHostOptions, 'spawn'>> & Pick<EngineHostOptions, 'spawn'>;

  constructor(options: EngineHostOptions) {
    this.opts = {
      cancelGraceMs: 10_000,
      stallTimeoutMs: 300_000,
      maxCrashes: 5,
      crashWindowMs: 60_000,
      requestTimeoutMs: 600_000,
      ...options,
    };
  }

  /** Start the engine (idempotent); resolves when it reported ready. */
  start(): Promise<void> {
    if (!this.ready) this.launch('starting');
    return this.ready as Promise<void>;
  }

  get status(): EngineStatus {
    return this.statusValue;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Send a broker-made event (batch progress) to every listener, like the engine's own. */
  publish(e: CodiEvent): void {
    this.emit(e);
  }

  onEvent(listener: (e: CodiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Validate and forward one request to the engine. */
  async request<C extends ChannelName>(channel: C, payload: RequestOf<C>): Promise<Result<ResponseOf<C>>> {
    if (!isServedBy(channel, 'engine')) return fail('unsupported', `"${channel}" is not an engine request`);
    const parsed = parseRequest(channel, payload);
    if (!parsed.ok) return parsed;
    if (this.stopping) return fail('engine-unavailable', 'the engine is shutting down');
    await this.start();
    const result = (await this.send(channel, parsed.value)) as Result<ResponseOf<C>>;
    if (result.ok) this.track(channel, parsed.value, result.value);
    return result;
  }

  /** Stop the engine for good (app quit). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    const p = this.proc;
    if (!p) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        p.kill();
        resolve();
      }, 2000);
      p.onExit(() => {
        clearTimeout(t);
        resolve();
      });
      try {
        p.send({ type: 'shutdown' });
      } catch {
        p.kill();
      }
    });
    this.proc = null;
  }

  /** Kill the engine now (tests, fault injection); it restarts like after a crash. */
  killEngine(): void {
    this.proc?.kill();
  }

  // ───────────────────────── internals ─────────────────────────

  private send(channel: string, payload: unknown): Promise<Result<unknown>> {
    const proc = this.proc;
    if (!proc) return Promise.resolve(fail('engine-unavailable', 'the engine is not running'));
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) resolve(fail('internal', `the engine did not answer ${channel} within ${this.opts.requestTimeoutMs} ms`));
      }, this.opts.requestTimeoutMs);
      timer.unref?.();
      this.pending.set(id, {
        channel,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      try {
        proc.send({ type: 'request', id, channel: channel as ChannelName, payload });
      } catch (err) {
        this.pending.delete(id);
        resolve(fail('engine-unavailable', `could not reach the engine: ${(err as Error).message}`));
      }
    });
  }

  private track(channel: ChannelName, req: unknown, value: unknown): void {
    if (channel === 'openImage') {
      const r = req as RequestOf<'openImage'>;
      const id = (value as ResponseOf<'openImage'>).imageId;
      this.ledger.set(id, r.source === 'path' ? { path: r.path } : { bytes: r.bytes, ...(r.name ? { name: r.name } : {}) });
    } else if (channel === 'releaseImage') {
      this.ledger.delete((req as RequestOf<'releaseImage'>).imageId);
    } else if (channel === 'runTool') {
      this.activeJobs.add((value as ResponseOf<'runTool'>).jobId);
    } else if (channel === 'cancelJob') {
      const jobId = (req as RequestOf<'cancelJob'>).jobId;
      if (jobId === this.runningJob && (value as ResponseOf<'cancelJob'>).state === 'running') this.armCancelKill(jobId);
    }
  }

  private launch(state: 'starting' | 'restarting', message?: string): void {
    // One readiness promise spans restarts: callers waiting through a crash get the next ready.
    if (!this.readyResolve) {
      this.ready = new Promise<void>((resolve) => {
        this.readyResolve = resolve;
      });
    }
    this.setStatus({ state, ...(message ? { message } : {}) });
    const proc = this.opts.spawn();
    this.proc = proc;
    proc.onMessage((m) => {
      if (this.proc !== proc || !isEngineToHost(m)) return;
      this.onEngineMessage(m);
    });
    proc.onExit((code, signal) => {
      if (this.proc !== proc) return;
      this.onEngineExit(code, signal);
    });
  }

  private onEngineMessage(m: EngineToHost): void {
    switch (m.type) {
      case 'ready': {
        this.provider = m.provider;
        void this.replayLedger().then(() => {
          this.setStatus({ state: 'ready', provider: m.provider });
          this.readyResolve?.();
          this.readyResolve = null;
        });
        return;
      }
      case 'response': {
        const p = this.pending.get(m.id);
        if (p) {
          this.pending.delete(m.id);
          p.resolve(m.result);
        }
        return;
      }
      case 'job-running':
        this.runningJob = m.jobId;
        this.armWatchdog();
        return;
      case 'event':
        this.onJobEvent(m.event);
        this.emit(m.event);
        return;
    }
  }

  private onJobEvent(e: CodiEvent): void {
    if (e.type === 'job-progress' && e.progress.jobId === this.runningJob) this.armWatchdog();
    const ended = e.type === 'job-done' ? e.done.jobId : e.type === 'job-failed' ? e.failed.jobId : null;
    if (ended) {
      this.activeJobs.delete(ended);
      if (ended === this.runningJob) {
        this.runningJob = null;
        this.clearTimers();
      }
    }
  }

  private async replayLedger(): Promise<void> {
    for (const [imageId, source] of this.ledger) {
      const proc = this.proc;
      if (!proc) return;
      const id = this.nextId++;
      const result = await new Promise<Result<unknown>>((resolve) => {
        this.pending.set(id, { channel: 'restore-image', resolve });
        proc.send({ type: 'restore-image', id, imageId, source });
      });
      if (!result.ok) this.ledger.delete(imageId);
    }
  }

  /** The engine died: fail what it held, then start a new one (unless it keeps dying). */
  private onEngineExit(code: number | null, signal: string | null): void {
    this.proc = null;
    this.clearTimers();
    const how = code !== null ? `exit code ${code}` : `signal ${signal ?? 'unknown'}`;
    const killedFor = this.killReason;
    this.killReason = null;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.resolve(fail('engine-crashed', `the engine stopped while handling ${p.channel} (${how}); please try again`));
    }
    if (this.stopping) return;
    const now = Date.now();
    this.crashTimes = this.crashTimes.filter((t) => now - t < this.opts.crashWindowMs);
    if (!killedFor) this.crashTimes.push(now);
    const giveUp = this.crashTimes.length >= this.opts.maxCrashes;
    for (const jobId of this.activeJobs) {
      const failed: JobFailed =
        killedFor?.jobId === jobId && killedFor.kind === 'cancel'
          ? { jobId, code: 'cancelled', message: 'cancelled (the engine was restarted to stop the running model)', cancelled: true }
          : killedFor?.jobId === jobId && killedFor.kind === 'stall'
            ? {
                jobId,
                code: 'engine-crashed',
                message: `the job made no progress for ${Math.round(this.opts.stallTimeoutMs / 1000)} s and was stopped; the engine has been restarted`,
                cancelled: false,
              }
            : {
                jobId,
                code: 'engine-crashed',
                message: `the engine stopped unexpectedly (${how}); the job was not completed; ${giveUp ? 'the engine keeps crashing and was not restarted' : 'the engine has been restarted'}`,
                cancelled: false,
              };
      this.emit({ type: 'job-failed', failed });
    }
    this.activeJobs.clear();
    this.runningJob = null;
    if (giveUp) {
      this.readyResolve?.();
      this.readyResolve = null;
      this.setStatus({ state: 'crashed', message: `the engine crashed ${this.crashTimes.length} times in a row (${how})` });
      return;
    }
    // a restart that stops a cancelled job is routine; one after a crash or a stall says why
    this.launch('restarting', killedFor?.kind === 'cancel' ? undefined : killedFor?.kind === 'stall' ? 'a job made no progress and was stopped' : `the engine stopped unexpectedly (${how})`);
  }

  private killReason: { jobId: string; kind: 'cancel' | 'stall' } | null = null;

  private armCancelKill(jobId: string): void {
    if (this.cancelTimer) return;
    this.cancelTimer = setTimeout(() => {
      this.cancelTimer = null;
      if (this.runningJob !== jobId || !this.proc) return;
      this.killReason = { jobId, kind: 'cancel' };
      this.proc.kill();
    }, this.opts.cancelGraceMs);
    this.cancelTimer.unref?.();
  }

  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    const jobId = this.runningJob;
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (!jobId || this.runningJob !== jobId || !this.proc) return;
      this.killReason = { jobId, kind: 'stall' };
      this.proc.kill();
    }, this.opts.stallTimeoutMs);
    this.watchdog.unref?.();
  }

  private clearTimers(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.watchdog = null;
    this.cancelTimer = null;
  }

  private setStatus(s: EngineStatus): void {
    this.statusValue = { ...s, ...(s.provider || !this.provider ? {} : { provider: this.provider }) };
    this.emit({ type: 'engine-status', status: this.statusValue });
  }

  private emit(e: CodiEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's bug must not break the broker
      }
    }
  }
}
