import { describe, it, expect } from 'vitest';
import type { CodiApi, Result } from '../../../electron/contract/api.ts';
import type { CodiEvent, JobProgress } from '../../../electron/contract/schemas.ts';
import { formatEta, JobTracker, progressFraction } from './jobs.ts';

/** A scripted CodiApi: only the calls the tracker makes; every other method rejects the test. */
function scriptedApi(over: Partial<CodiApi>) {
  const listeners = new Set<(e: CodiEvent) => void>();
  const notUsed = () => Promise.reject(new Error('not used by this test'));
  const api = new Proxy({} as CodiApi, {
    get(_t, prop: string) {
      if (prop === 'onEvent') return (l: (e: CodiEvent) => void) => (listeners.add(l), () => listeners.delete(l));
      return (over as Record<string, unknown>)[prop] ?? notUsed;
    },
  });
  return { api, emit: (e: CodiEvent) => listeners.forEach((l) => l(e)) };
}

const ok = <T,>(value: T): Result<T> => ({ ok: true, value });

describe('JobTracker', () => {
  it('forwards progress and resolves on job-done, even when events overtake the reply', async () => {
    let emitRef: ((e: CodiEvent) => void) | null = null;
    const { api, emit } = scriptedApi({
      runTool: async () => {
        emitRef!({ type: 'job-progress', progress: { jobId: 'job_1', stage: 'denoising', step: { i: 1, n: 4 }, etaMs: 300 } });
        return ok({ jobId: 'job_1' });
      },
    });
    emitRef = emit;
    const t = new JobTracker(api);
    const seen: JobProgress[] = [];
    const r = await t.start({ tool: 'restore', imageId: 'img_a' }, (p) => seen.push(p));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    emit({ type: 'job-progress', progress: { jobId: 'job_1', stage: 'denoising', step: { i: 2, n: 4 }, etaMs: 200 } });
    emit({ type: 'job-progress', progress: { jobId: 'job_other', stage: 'denoising', etaMs: null } });
    emit({ type: 'job-done', done: { jobId: 'job_1', resultImageId: 'img_b', width: 8, height: 8, elapsedMs: 5, notes: [] } });
    const o = await r.value.outcome;
    expect(o.kind).toBe('done');
    expect(seen.map((p) => p.step?.i)).toEqual([1, 2]);
    expect(t.activeCount).toBe(0);
  });

  it('passes runTool errors through untouched', async () => {
    const { api } = scriptedApi({ runTool: async () => ({ ok: false, error: { code: 'not-found', message: 'no pack' } }) });
    const r = await new JobTracker(api).start({ tool: 'edit', imageId: 'img_a' }, () => {});
    expect(r).toEqual({ ok: false, error: { code: 'not-found', message: 'no pack' } });
  });

  it('a cancel acknowledged as cancelled settles the job', async () => {
    const { api } = scriptedApi({ runTool: async () => ok({ jobId: 'job_2' }), cancelJob: async () => ok({ state: 'cancelled' as const }) });
    const r = await new JobTracker(api).start({ tool: 'restore', imageId: 'img_a' }, () => {});
    if (!r.ok) throw new Error('start failed');
    await r.value.cancel();
    const o = await r.value.outcome;
    expect(o.kind === 'failed' && o.failed.cancelled).toBe(true);
  });

  it('an engine restart during a job re-checks it and reports the crash', async () => {
    const { api, emit } = scriptedApi({
      runTool: async () => ok({ jobId: 'job_3' }),
      jobStatus: async () => ({ ok: false, error: { code: 'not-found', message: 'unknown job' } }),
    });
    const r = await new JobTracker(api).start({ tool: 'restore', imageId: 'img_a' }, () => {});
    if (!r.ok) throw new Error('start failed');
    emit({ type: 'engine-status', status: { state: 'restarting' } });
    const o = await r.value.outcome;
    expect(o.kind === 'failed' && o.failed.code).toBe('engine-crashed');
  });
});

describe('progress helpers', () => {
  it('combines tiles and steps into one fraction', () => {
    expect(progressFraction({ jobId: 'job_x', stage: 'denoising', step: { i: 2, n: 4 }, etaMs: null })).toBe(0.5);
    expect(progressFraction({ jobId: 'job_x', stage: 'denoising', step: { i: 2, n: 4 }, tile: { i: 2, m: 4 }, etaMs: null })).toBeCloseTo(0.375, 10);
    expect(progressFraction({ jobId: 'job_x', stage: 'queued', etaMs: null })).toBeNull();
  });

  it('formats ETAs', () => {
    expect(formatEta(null)).toBeNull();
    expect(formatEta(12_400)).toBe('12 s');
    expect(formatEta(65_000)).toBe('1 min 05 s');
  });
});
