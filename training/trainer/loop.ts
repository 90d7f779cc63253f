/**
 * The training loop both engines share: step until the target, the NaN/Inf guard's message, the
 * progress window, checkpoint cadence and the final events. The TF.js trainer and the PyTorch
 * engine differ only in how one step is computed (`TrainingLoopHost.step`), so what a user sees
 * (events, when checkpoints land, when a run counts as diverged) cannot drift between them.
 */
import type { TrainConfig } from './config.ts';
import type { TrainEvents } from './events.ts';

/** What one step did. When `applied` is false nothing was changed (the guard fired). */
export interface StepReport {
  applied: boolean;
  total: number;
  terms: Record<string, number>;
  gradNorm: number;
}

export interface TrainResult {
  status: 'done' | 'stopped' | 'diverged';
  step: number;
  wallSeconds: number;
  reason?: string;
}

export interface TrainingLoopHost {
  readonly config: TrainConfig;
  readonly events: TrainEvents;
  /** False for runs without a run folder (tests, benchmarks): no checkpoints are written. */
  readonly checkpoints: boolean;
  /** Steps completed so far. */
  position(): number;
  /** One optimiser step at `position()`; on success the host has applied it (weights, EMA). */
  step(): Promise<StepReport>;
  /** Count the step just applied and the seconds it took. */
  advance(seconds: number): void;
  wallSeconds(): number;
  checkpoint(): Promise<unknown>;
}

/** The LR of the update that takes the run from `step` to `step + 1` (linear warm-up, then constant). */
export function learningRateAt(config: TrainConfig, step: number): number {
  const { optimizer, warmupSteps } = config;
  return warmupSteps > 0 ? optimizer.lr * Math.min(1, (step + 1) / warmupSteps) : optimizer.lr;
}

/** Why the guard stopped a step: the first non-finite loss term, else the gradient norm. */
function divergenceReason(r: StepReport): string {
  const badTerm = Object.entries(r.terms).find(([, v]) => !Number.isFinite(v));
  if (!Number.isFinite(r.total) || badTerm) return `non-finite loss (${badTerm ? badTerm[0] : 'total'} = ${badTerm ? badTerm[1] : r.total})`;
  return `non-finite gradient norm (${r.gradNorm})`;
}

/**
 * Train until `config.steps` (or `untilStep`), emitting events. Stops early on a non-finite loss
 * or gradient (nothing is applied; the last checkpoint stays the newest) or on `signal`.
 */
export async function runTrainingLoop(host: TrainingLoopHost, options: { untilStep?: number; signal?: { readonly aborted: boolean } } = {}): Promise<TrainResult> {
  const c = host.config;
  const end = Math.min(c.steps, options.untilStep ?? c.steps);
  let windowStart = performance.now();
  let windowSteps = 0;
  let windowLoss = 0;
  let status: TrainResult['status'] = 'done';
  let reason: string | undefined;
  while (host.position() < end) {
    if (options.signal?.aborted) {
      status = 'stopped';
      break;
    }
    const t0 = performance.now();
    const r = await host.step();
    if (!r.applied) {
      status = 'diverged';
      reason = divergenceReason(r);
      host.events.emit({ type: 'diverged', step: host.position(), reason });
      break;
    }
    host.advance((performance.now() - t0) / 1000);
    const step = host.position();
    windowSteps += 1;
    windowLoss += r.total;
    if (step % c.logEvery === 0 || step === end) {
      const now = performance.now();
      const sps = (windowSteps * c.batchSize) / Math.max(1e-9, (now - windowStart) / 1000);
      host.events.emit({
        type: 'progress',
        step,
        totalSteps: c.steps,
        losses: { total: r.total, ...r.terms },
        meanLoss: windowLoss / windowSteps,
        gradNorm: r.gradNorm,
        samplesPerSec: sps,
        etaSec: ((c.steps - step) * c.batchSize) / Math.max(1e-9, sps),
      });
      windowStart = now;
      windowSteps = 0;
      windowLoss = 0;
    }
    if (host.checkpoints && c.checkpointEvery > 0 && step % c.checkpointEvery === 0 && step < end) await host.checkpoint();
    // Let I/O and event listeners (the CLI's progress line, a cancel) run between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (host.checkpoints && status !== 'diverged') await host.checkpoint();
  if (status === 'done') host.events.emit({ type: 'done', step: host.position(), wallSeconds: host.wallSeconds() });
  return { status, step: host.position(), wallSeconds: host.wallSeconds(), ...(reason ? { reason } : {}) };
}
