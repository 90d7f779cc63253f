/**
 * Bytes, speed and ETA of a pull. Speed is measured over a sliding window of recent seconds,
 * counting only bytes that arrived in this run (a resumed pull's earlier bytes are done, not
 * fast); updates are throttled so a fast download does not flood the IPC channel or the terminal.
 */
import type { PullProgress } from './types.ts';

const WINDOW_MS = 5000;
const EVERY_MS = 100;

export class ProgressMeter {
  private done = 0;
  private samples: Array<{ t: number; done: number }> = [];
  private lastEmit = -Infinity;
  private phase: PullProgress['phase'] = 'resolving';
  private file: string | undefined;

  constructor(
    private readonly emit: ((p: PullProgress) => void) | undefined,
    private total = 0,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(phase: PullProgress['phase'], total: number, alreadyDone: number): void {
    this.total = total;
    this.done = alreadyDone;
    this.samples = [{ t: this.now(), done: alreadyDone }];
    this.set(phase);
  }

  set(phase: PullProgress['phase'], file?: string): void {
    this.phase = phase;
    this.file = file;
    this.send(true);
  }

  add(n: number, file?: string): void {
    this.done += n;
    if (file) this.file = file;
    this.send(false);
  }

  /** Send the current state now (the last bytes of a phase are not lost to the throttle). */
  flush(): void {
    this.send(true);
  }

  snapshot(): PullProgress {
    const t = this.now();
    while (this.samples.length > 1 && t - (this.samples[1] as { t: number }).t > WINDOW_MS) this.samples.shift();
    const first = this.samples[0] ?? { t, done: this.done };
    const dt = (t - first.t) / 1000;
    const bytesPerSecond = dt > 0.2 ? (this.done - first.done) / dt : 0;
    const left = Math.max(0, this.total - this.done);
    return {
      phase: this.phase,
      bytesDone: this.done,
      bytesTotal: this.total,
      bytesPerSecond: Math.round(bytesPerSecond),
      etaSeconds: left === 0 ? 0 : bytesPerSecond > 0 ? Math.ceil(left / bytesPerSecond) : null,
      ...(this.file ? { file: this.file } : {}),
    };
  }

  private send(force: boolean): void {
    const t = this.now();
    const last = this.samples[this.samples.length - 1];
    if (!last || t - last.t >= 250) this.samples.push({ t, done: this.done });
    if (!this.emit || (!force && t - this.lastEmit < EVERY_MS)) return;
    this.lastEmit = t;
    this.emit(this.snapshot());
  }
}
