import { describe, expect, it } from 'vitest';
import type { CodiApi, CodiEvent, ImagePixels, RunToolRequest } from '../engine-client/index.ts';
import { makeRgba } from '../editor/document.ts';
import { ImageLedger } from './imageLedger.ts';
import { JobRunner } from './jobRunner.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { ok, pack, scriptedApi } from './testing/fakeApi.ts';

const pixels = (imageId: string): ImagePixels => ({ imageId, width: 1, height: 1, rgba: new Uint8Array([1, 2, 3, 255]) });
const req: RunToolRequest = { tool: 'edit', pack: 'e', imageId: '', steps: 2, seed: 1 };

function setup(over: Partial<CodiApi>) {
  const s = scriptedApi({ getImagePixels: async (r) => ok(pixels(r.imageId)), ...over });
  const ledger = new ImageLedger(s.api, async () => new Uint8Array());
  const notices = new Notices();
  const img = makeRgba(1, 1);
  ledger.startDocument(img, 'img_in');
  return { runner: new JobRunner(s.api, ledger, notices), ledger, notices, img, emit: s.emit };
}

describe('JobRunner', () => {
  it('runs on the engine id of the image, shows progress, and keeps the result id', async () => {
    let emit: (e: CodiEvent) => void = () => {};
    const sent: RunToolRequest[] = [];
    const t = setup({ runTool: async (r) => (sent.push(r), ok({ jobId: 'job_1' })) });
    emit = t.emit;
    const p = t.runner.run(pack('e', 'edit', { title: 'Edit' }), t.img, 'a.png', req);
    expect(t.runner.job?.packTitle).toBe('Edit');
    await new Promise((r) => setTimeout(r, 0));
    emit({ type: 'job-progress', progress: { jobId: 'job_1', stage: 'denoising', step: { i: 1, n: 2 }, etaMs: 10 } });
    expect(t.runner.job?.progress?.step).toEqual({ i: 1, n: 2 });
    emit({ type: 'job-done', done: { jobId: 'job_1', resultImageId: 'img_out', width: 1, height: 1, elapsedMs: 5, notes: ['n'] } });
    const r = await p;
    expect(sent[0]?.imageId).toBe('img_in');
    expect(r?.imageId).toBe('img_out');
    expect(r?.notes).toEqual(['n']);
    expect(r && t.ledger.idOf(r.img)).toBe('img_out');
    expect(t.runner.job).toBeNull();
  });

  it('words a failure by its code: cancelled is news, a crash says the engine restarts', async () => {
    for (const [failed, kind, text] of [
      [{ code: 'cancelled', message: '', cancelled: true }, 'info', 'Edit cancelled.'],
      [{ code: 'engine-crashed', message: 'x', cancelled: false }, 'error', 'The engine stopped unexpectedly while running Edit'],
      [{ code: 'internal', message: 'NaN in output', cancelled: false }, 'error', 'Could not run Edit: NaN in output'],
    ] as const) {
      let emit: (e: CodiEvent) => void = () => {};
      const t = setup({ runTool: async () => ok({ jobId: 'job_2' }) });
      emit = t.emit;
      const p = t.runner.run(pack('e', 'edit', { title: 'Edit' }), t.img, 'a.png', req);
      await new Promise((r) => setTimeout(r, 0));
      emit({ type: 'job-failed', failed: { jobId: 'job_2', ...failed } });
      expect(await p).toBeNull();
      expect(t.notices.current?.kind).toBe(kind);
      expect(t.notices.current?.text.startsWith(text)).toBe(true);
      expect(t.runner.job).toBeNull();
    }
  });

  it('reports a job that could not start', async () => {
    const t = setup({ runTool: async () => ({ ok: false, error: { code: 'busy', message: 'queue full' } }) });
    expect(await t.runner.run(pack('e', 'edit', { title: 'Edit' }), t.img, 'a.png', req)).toBeNull();
    expect(t.notices.current).toEqual({ kind: 'error', text: 'Could not start Edit: queue full' });
  });

  it('cancels the running job once', async () => {
    let cancels = 0;
    const t = setup({ runTool: async () => ok({ jobId: 'job_3' }), cancelJob: async () => (cancels++, ok({ state: 'running' })) });
    const p = t.runner.run(pack('e', 'edit'), t.img, 'a.png', req);
    await new Promise((r) => setTimeout(r, 0));
    await Promise.all([t.runner.cancel(), t.runner.cancel()]);
    expect(cancels).toBe(1);
    expect(t.runner.job?.cancelling).toBe(true);
    t.emit({ type: 'job-failed', failed: { jobId: 'job_3', code: 'cancelled', message: '', cancelled: true } });
    expect(await p).toBeNull();
  });
});
