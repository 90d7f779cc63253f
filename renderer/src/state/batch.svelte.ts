/** A folder batch run by the broker: start it, pause / resume / cancel it, follow its progress. */
import type { BatchProgress, CodiApi, StartBatchRequest } from '../engine-client/index.ts';
import { describeError } from './notices.svelte.ts';
import type { Notices } from './notices.svelte.ts';

export class BatchState {
  readonly #api: CodiApi;
  readonly #notices: Notices;
  readonly #off: () => void;

  /** The last batch's progress (kept after it ends for its report). */
  progress = $state.raw<BatchProgress | null>(null);

  constructor(api: CodiApi, notices: Notices) {
    this.#api = api;
    this.#notices = notices;
    this.#off = api.onEvent((e) => {
      if (e.type === 'batch-progress' && (!this.progress || this.progress.batchId === e.batch.batchId)) this.progress = e.batch;
    });
  }

  dispose(): void {
    this.#off();
  }

  get active(): boolean {
    return this.progress !== null && (this.progress.state === 'running' || this.progress.state === 'paused');
  }

  /** Start a batch; null, or why it did not start (the dialog shows it beside the form). */
  async start(req: StartBatchRequest): Promise<string | null> {
    const r = await this.#api.startBatch(req);
    if (!r.ok) return describeError(r.error, 'start the batch');
    this.progress = { batchId: r.value.batchId, state: 'running', done: 0, total: r.value.files, succeeded: 0, results: [] };
    return null;
  }

  async control(action: 'pause' | 'resume' | 'cancel'): Promise<void> {
    const b = this.progress;
    if (!b) return;
    const req = { batchId: b.batchId };
    const r = action === 'pause' ? await this.#api.pauseBatch(req) : action === 'resume' ? await this.#api.resumeBatch(req) : await this.#api.cancelBatch(req);
    if (!r.ok) this.#notices.failed(r.error, `${action} the batch`);
    else if (this.progress?.batchId === b.batchId) this.progress = { ...this.progress, state: r.value.state };
  }
}
