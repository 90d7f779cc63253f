/**
 * Personal adapters on the broker side: it only brokers. Preflight and training run in a worker
 * process (training/personal/worker.ts, forked through tsx; electron/ may not import
 * training/, so the worker is started by path and spoken to in plain messages). Each run lives
 * in its own folder under `runsDir`, so runs survive app restarts and crashes: status reads the
 * folder, resume forks a worker on it, and the worker continues from its last checkpoint.
 * When a run finishes, the engine rescans its pack folders, so the adapter is a tool at once.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fail, ok, serve } from '../contract/api.ts';
import type { Result, ServerHandlers } from '../contract/api.ts';
import type { ChannelOf } from '../contract/channels.ts';
import type { LossPoint, PersonalPhase, PersonalPreflightResponse, PersonalProgress, PersonalRunInfo } from '../contract/personal-schemas.ts';
import type { CodiEvent, ParsedRequestOf } from '../contract/schemas.ts';
import { exportAdapterFile, importAdapterFile } from './adapter-file.ts';
import { userPacksDir } from './config.ts';
import { engineEnv, REPO_ROOT } from './fork.ts';

/** Defaults from the environment: CODI_USER_DATA/personal-runs, CODI_USER_PACKS, CODI_PACKS/codi-backbone. */
export function personalOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): { runsDir: string; userPacksDir: string; backbonePack: string; maxSteps?: number } {
  // CODI_PERSONAL_MAX_STEPS caps every run (end-to-end tests in CI time)
  const cap = Number(env.CODI_PERSONAL_MAX_STEPS);
  return {
    ...(Number.isInteger(cap) && cap > 0 ? { maxSteps: cap } : {}),
    runsDir: path.join(env.CODI_USER_DATA || path.join(os.homedir(), '.codi-studio'), 'personal-runs'),
    userPacksDir: userPacksDir(env),
    backbonePack: path.join(env.CODI_PACKS || path.join(REPO_ROOT, 'native-models'), 'codi-backbone'),
  };
}

export const PERSONAL_WORKER_ENTRY = path.join(REPO_ROOT, 'training', 'personal', 'worker.ts');

/** Where runs and packs live, and how to tell the engine about a new pack. */
export interface PersonalOptions {
  runsDir: string;
  userPacksDir: string;
  /** The bundled backbone pack folder the adapters train on. */
  backbonePack: string;
  publish: (e: CodiEvent) => void;
  /** Make the engine rescan its pack folders (the new adapter becomes a tool). */
  rescanPacks: () => Promise<void>;
  /** Cap on any run's steps (tests). */
  maxSteps?: number;
  /**
   * Starts a training worker (default: fork training/personal/worker.ts). The IPC fuzz swaps in
   * an in-process double so that 10 000 schema-valid payloads do not fork 10 000 processes.
   */
  spawnWorker?: (args: string[]) => WorkerProcess;
}

/** What the manager uses of a worker process. */
export type WorkerProcess = Pick<ChildProcess, 'on' | 'send' | 'kill'>;

/** Messages of training/personal/protocol.ts (WorkerMessage), as received. */
type WorkerMsg =
  | { type: 'phase'; phase: PersonalPhase; detail?: string }
  | { type: 'backend'; name: string; why: string }
  | { type: 'history'; points: LossPoint[]; totalSteps: number; resumedFrom: number }
  | { type: 'progress'; step: number; totalSteps: number; losses: Record<string, number>; samplesPerSec: number; etaSec: number }
  | { type: 'preview'; step: number; items: { before: string; output: string; target: string }[] }
  | { type: 'done'; packDir: string; packName: string; psnr: number; psnrInput: number; steps: number; wallSeconds: number }
  | { type: 'error'; message: string }
  | { type: 'preflight'; result: PreflightResultMsg };

interface PreflightResultMsg {
  report: Omit<PersonalPreflightResponse, 'estimate' | 'pairs'> & { pairs: { name: string }[] };
  calibration?: { backend: string; secondsPerStep: Record<string, number>; estimates: Record<string, number> };
}

interface LiveRun {
  info: PersonalRunInfo;
  child: WorkerProcess | null;
  exited: Promise<void> | null;
}

function forkWorker(args: string[]): ChildProcess {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return fork(PERSONAL_WORKER_ENTRY, args, {
    serialization: 'advanced',
    execArgv: ['--import', tsx],
    env: engineEnv(),
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

const slugify = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'adapter';

export class PersonalManager {
  private readonly runs = new Map<string, LiveRun>();
  private loaded = false;

  constructor(private readonly opts: PersonalOptions) {}

  /** The personal-adapter channels of the contract's table, each taking its validated request. */
  readonly handlers: ServerHandlers<'personal'> = {
    personalPreflight: (req) => this.guarded(() => this.preflight(req)),
    personalStart: (req) => this.guarded(async () => ok(await this.start(req))),
    personalPause: (req) => this.guarded(() => this.pause(req.runId)),
    personalResume: (req) => this.guarded(() => this.resume(req.runId)),
    personalCancel: (req) => this.guarded(() => this.cancel(req.runId)),
    personalStatus: (req) =>
      this.guarded(async () => ok({ runs: [...this.runs.values()].map((r) => r.info).filter((r) => !req.runId || r.runId === req.runId) })),
    exportAdapter: (req) =>
      this.guarded(async () => {
        const dir = path.join(this.opts.userPacksDir, req.pack);
        if (!existsSync(path.join(dir, 'manifest.json'))) return fail('not-found', `no personal adapter named "${req.pack}"`);
        const bytes = await exportAdapterFile(dir, req.path);
        return ok({ path: req.path, bytes });
      }),
    importAdapter: (req) =>
      this.guarded(async () => {
        const pack = await importAdapterFile(req.path, this.opts.userPacksDir, { overwrite: req.overwrite });
        await this.opts.rescanPacks();
        return ok({ pack });
      }),
  };

  handle(channel: ChannelOf<'personal'>, payload: unknown): Promise<Result<unknown>> {
    return serve(this.handlers, channel, payload);
  }

  /** Every personal request sees the runs left on disk, and a failing file operation is an 'io' error. */
  private async guarded<T>(fn: () => Promise<Result<T>>): Promise<Result<T>> {
    try {
      await this.loadRuns();
      return await fn();
    } catch (err) {
      return fail('io', (err as Error).message);
    }
  }

  /** Runs found in runsDir (an app restart): a run that was training when the app died shows as paused. */
  private async loadRuns(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    let names: string[] = [];
    try {
      names = (await readdir(this.opts.runsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const runId of names) {
      const dir = path.join(this.opts.runsDir, runId);
      try {
        const job = JSON.parse(await readFile(path.join(dir, 'job.json'), 'utf8')) as { title: string; name: string; preset: string; steps?: number };
        const state = existsSync(path.join(dir, 'state.json')) ? (JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as { phase: PersonalPhase; detail?: string; psnr?: number; psnrInput?: number }) : { phase: 'paused' as const };
        const history = await readHistoryFile(path.join(dir, 'history.jsonl'));
        const interrupted = state.phase === 'training' || state.phase === 'preparing' || state.phase === 'exporting';
        const info: PersonalRunInfo = {
          runId,
          title: job.title,
          name: job.name,
          preset: job.preset,
          phase: interrupted ? 'paused' : state.phase,
          ...(interrupted ? { detail: 'interrupted (the app closed or the worker stopped); resume continues from the last checkpoint' } : state.detail ? { detail: state.detail } : {}),
          step: history.at(-1)?.step ?? 0,
          totalSteps: job.steps ?? 0,
          active: false,
          history,
          previews: [],
        };
        this.runs.set(runId, { info, child: null, exited: null });
      } catch {
        // not a run folder (or a half-written one): leave it alone
      }
    }
  }

  private async preflight(req: ParsedRequestOf<'personalPreflight'>): Promise<Result<PersonalPreflightResponse>> {
    const task = { source: req.source, align: req.align, estimate: req.estimate, backbonePack: this.opts.backbonePack, thumbnails: 12 };
    const child = (this.opts.spawnWorker ?? forkWorker)(['--preflight', JSON.stringify(task)]);
    const msg = await new Promise<WorkerMsg | null>((resolve) => {
      let got: WorkerMsg | null = null;
      child.on('message', (m) => {
        got = m as WorkerMsg;
      });
      child.on('exit', () => resolve(got));
      child.on('error', () => resolve(got));
    });
    if (!msg) return fail('internal', 'the preflight worker stopped without an answer');
    if (msg.type === 'error') return fail('io', msg.message);
    if (msg.type !== 'preflight') return fail('internal', `unexpected preflight reply ${msg.type}`);
    const { report, calibration } = msg.result;
    return ok({
      ok: report.ok,
      layout: report.layout,
      counts: report.counts,
      problems: report.problems,
      pairs: report.pairs.map((p) => p.name),
      split: report.split,
      thumbs: report.thumbs,
      ...(calibration ? { estimate: { backend: calibration.backend, seconds: calibration.estimates, secondsPerStep: calibration.secondsPerStep } } : {}),
    });
  }

  private async start(req: ParsedRequestOf<'personalStart'>): Promise<PersonalRunInfo> {
    const name = req.name ?? `my-${slugify(req.title)}`;
    const runId = `${name}-${Date.now().toString(36)}`;
    const runDir = path.join(this.opts.runsDir, runId);
    const job = {
      runDir,
      source: req.source,
      align: req.align,
      preset: req.preset,
      backbonePack: this.opts.backbonePack,
      userPacksDir: this.opts.userPacksDir,
      name,
      title: req.title,
      seed: 0,
      ...(req.steps !== undefined || this.opts.maxSteps !== undefined ? { steps: Math.min(req.steps ?? Infinity, this.opts.maxSteps ?? Infinity) } : {}),
    };
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(runDir, { recursive: true });
    await writeFile(path.join(runDir, 'job.json'), `${JSON.stringify(job, null, 2)}\n`);
    const info: PersonalRunInfo = { runId, title: req.title, name, preset: req.preset, phase: 'preparing', step: 0, totalSteps: job.steps ?? 0, active: true, history: [], previews: [] };
    const run: LiveRun = { info, child: null, exited: null };
    this.runs.set(runId, run);
    this.launch(run, runDir);
    return info;
  }

  private launch(run: LiveRun, runDir: string): void {
    const child = (this.opts.spawnWorker ?? forkWorker)([runDir]);
    run.child = child;
    run.info.active = true;
    run.info.error = undefined;
    run.exited = new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        run.child = null;
        run.info.active = false;
        // killed, or died without saying how it ended: resumable from the last checkpoint
        if (run.info.phase === 'training' || run.info.phase === 'preparing' || run.info.phase === 'exporting') {
          run.info.phase = 'paused';
          run.info.detail = `the training process stopped (${signal ?? `exit ${code}`}); resume continues from the last checkpoint`;
        }
        this.emit(run, 'phase');
        resolve();
      });
    });
    child.on('message', (m) => void this.onWorker(run, m as WorkerMsg));
  }

  private async onWorker(run: LiveRun, m: WorkerMsg): Promise<void> {
    const info = run.info;
    switch (m.type) {
      case 'phase':
        info.phase = m.phase;
        if (m.detail !== undefined) info.detail = m.detail;
        else delete info.detail;
        if (m.phase === 'cancelled') this.runs.delete(info.runId);
        this.emit(run, 'phase');
        return;
      case 'backend':
        info.backend = `${m.name} (${m.why})`;
        this.emit(run, 'backend');
        return;
      case 'history':
        info.history = m.points;
        info.totalSteps = m.totalSteps;
        info.step = m.resumedFrom;
        this.emit(run, 'history');
        return;
      case 'progress': {
        const point: LossPoint = { step: m.step, losses: m.losses, samplesPerSec: m.samplesPerSec };
        info.history.push(point);
        info.step = m.step;
        info.totalSteps = m.totalSteps;
        info.samplesPerSec = m.samplesPerSec;
        info.etaSec = m.etaSec;
        this.emit(run, 'progress', point);
        return;
      }
      case 'preview':
        info.previews = m.items;
        info.previewStep = m.step;
        this.emit(run, 'preview');
        return;
      case 'done':
        info.result = { packName: m.packName, psnr: m.psnr, psnrInput: m.psnrInput, wallSeconds: m.wallSeconds, steps: m.steps };
        // rescan before telling the UI, so its next listPacks already shows the tool
        await this.opts.rescanPacks().catch(() => {});
        this.emit(run, 'done');
        return;
      case 'error':
        info.error = m.message;
        this.emit(run, 'error');
        return;
      case 'preflight':
        return;
    }
  }

  private emit(run: LiveRun, kind: PersonalProgress['kind'], point?: LossPoint): void {
    // progress events carry only the new point; the full history goes with the other kinds
    const runInfo = kind === 'progress' ? { ...run.info, history: [], previews: [] } : run.info;
    this.opts.publish({ type: 'personal-progress', personal: { runId: run.info.runId, kind, run: runInfo, ...(point ? { point } : {}) } });
  }

  private async pause(runId: string): Promise<Result<PersonalRunInfo>> {
    const run = this.runs.get(runId);
    if (!run) return fail('not-found', `no training run ${runId}`);
    if (run.child) {
      run.child.send({ type: 'pause' });
      await run.exited;
    }
    return ok(run.info);
  }

  private async resume(runId: string): Promise<Result<PersonalRunInfo>> {
    const run = this.runs.get(runId);
    if (!run) return fail('not-found', `no training run ${runId}`);
    if (run.child) return ok(run.info);
    if (run.info.phase === 'done') return fail('invalid-request', `run ${runId} is already done`);
    run.info.phase = 'preparing';
    this.launch(run, path.join(this.opts.runsDir, runId));
    return ok(run.info);
  }

  private async cancel(runId: string): Promise<Result<{ cancelled: boolean }>> {
    const run = this.runs.get(runId);
    if (!run) return fail('not-found', `no training run ${runId}`);
    if (run.child) {
      run.child.send({ type: 'cancel' });
      await run.exited;
    }
    await rm(path.join(this.opts.runsDir, runId), { recursive: true, force: true });
    this.runs.delete(runId);
    run.info.phase = 'cancelled';
    this.emit(run, 'phase');
    return ok({ cancelled: true });
  }

  /** Pause every running worker (app shutdown); they resume from their checkpoints later. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.runs.values()].filter((r) => r.child).map((r) => this.pause(r.info.runId)));
  }
}

async function readHistoryFile(file: string): Promise<LossPoint[]> {
  if (!existsSync(file)) return [];
  const out: LossPoint[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LossPoint);
    } catch {
      break;
    }
  }
  return out;
}
