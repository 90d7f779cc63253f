import { describe, expect, it } from 'vitest';
import type { BatchProgress } from '../engine-client/index.ts';
import { BatchState } from './batch.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { ok, scriptedApi } from './testing/fakeApi.ts';

const progress = (batchId: string, done: number): BatchProgress => ({ batchId, state: 'running', done, total: 3, succeeded: done, results: [] });

describe('BatchState', () => {
  it('follows its own batch only, and is active while running or paused', async () => {
    const s = scriptedApi({ startBatch: async () => ok({ batchId: 'b1', files: 3 }), pauseBatch: async () => ok({ state: 'paused' }) });
    const b = new BatchState(s.api, new Notices());
    expect(b.active).toBe(false);
    expect(await b.start({} as never)).toBeNull();
    expect(b.progress).toEqual({ batchId: 'b1', state: 'running', done: 0, total: 3, succeeded: 0, results: [] });
    s.emit({ type: 'batch-progress', batch: progress('other', 2) });
    expect(b.progress?.done).toBe(0);
    s.emit({ type: 'batch-progress', batch: progress('b1', 1) });
    expect(b.progress?.done).toBe(1);
    await b.control('pause');
    expect(b.progress?.state).toBe('paused');
    expect(b.active).toBe(true);
  });

  it('returns why a batch did not start, and reports a failed control', async () => {
    const s = scriptedApi({
      startBatch: async () => ({ ok: false, error: { code: 'not-found', message: 'no such folder' } }),
      cancelBatch: async () => ({ ok: false, error: { code: 'not-found', message: 'no batch b1' } }),
    });
    const notices = new Notices();
    const b = new BatchState(s.api, notices);
    expect(await b.start({} as never)).toBe('Could not start the batch: no such folder');
    s.emit({ type: 'batch-progress', batch: progress('b1', 1) });
    await b.control('cancel');
    expect(notices.current).toEqual({ kind: 'error', text: 'Could not cancel the batch: no batch b1' });
  });
});
