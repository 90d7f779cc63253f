/** Progress events of a training run, consumed by the CLI (and later the app). */

export interface ProgressEvent {
  type: 'progress';
  step: number;
  totalSteps: number;
  /** Loss terms of the last step (e.g. total, consistency, dx, v). */
  losses: Record<string, number>;
  /** Mean over the steps since the previous progress event. */
  meanLoss: number;
  gradNorm: number;
  samplesPerSec: number;
  etaSec: number;
}

export interface CheckpointEvent {
  type: 'checkpoint';
  step: number;
  dir: string;
}

/** The NaN/Inf guard fired: training stopped before applying the bad update. */
export interface DivergedEvent {
  type: 'diverged';
  step: number;
  reason: string;
}

export interface DoneEvent {
  type: 'done';
  step: number;
  wallSeconds: number;
}

export type TrainEvent = ProgressEvent | CheckpointEvent | DivergedEvent | DoneEvent;
export type TrainListener = (e: TrainEvent) => void;

/** Minimal typed emitter: `on` returns an unsubscribe function. */
export class TrainEvents {
  private readonly listeners = new Set<TrainListener>();
  on(listener: TrainListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: TrainEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/** One human-readable progress line (the CLI prints these). */
export function formatEvent(e: TrainEvent): string {
  switch (e.type) {
    case 'progress': {
      const terms = Object.entries(e.losses)
        .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
        .join(' ');
      return `step ${e.step}/${e.totalSteps}  loss=${e.meanLoss.toPrecision(4)}  ${terms}  |g|=${e.gradNorm.toPrecision(3)}  ${e.samplesPerSec.toFixed(1)} samples/s  eta ${Math.round(e.etaSec)}s`;
    }
    case 'checkpoint':
      return `checkpoint step ${e.step} → ${e.dir}`;
    case 'diverged':
      return `STOPPED at step ${e.step}: ${e.reason}`;
    case 'done':
      return `done: ${e.step} steps in ${e.wallSeconds.toFixed(1)} s`;
  }
}
