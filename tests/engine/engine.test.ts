/**
 * The engine process with real exported packs, through EngineHost: each tool runs, cancel
 * stops between steps, and killing the engine mid-job fails that job with the promised
 * message while the next job (on the same image id) succeeds.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EngineHost } from '../../electron/broker/engine-host.ts';
import { forkEngine } from '../../electron/broker/fork.ts';
import type { CodiEvent, JobDone, JobFailed } from '../../electron/contract/schemas.ts';
import { makeTestPacks } from './fixtures/packs.ts';
import type { TestPacks } from './fixtures/packs.ts';

let tmp: string;
let packs: TestPacks;
let host: EngineHost;
const events: CodiEvent[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-engine-'));
  packs = await makeTestPacks(path.join(tmp, 'packs'));
  host = new EngineHost({ spawn: forkEngine({ packDirs: [{ path: packs.dir, source: 'bundled' }], providers: ['cpu'], threads: 1 }) });
  host.onEvent((e) => events.push(e));
  await host.start();
});
afterAll(async () => {
  await host?.stop();
  await rm(tmp, { recursive: true, force: true });
});

async function openColour(width: number, height: number, bg = { r: 200, g: 90, b: 40 }): Promise<string> {
  const png = await sharp({ create: { width, height, channels: 3, background: bg } }).png().toBuffer();
  const r = await host.request('openImage', { source: 'bytes', bytes: new Uint8Array(png), name: 'test.png' });
  if (!r.ok) throw new Error(r.error.message);
  expect([r.value.width, r.value.height]).toEqual([width, height]);
  return r.value.imageId;
}

type ProgressEvent = CodiEvent & { type: 'job-progress' };

/**
 * Submit a job and resolve with its end event; `onProgress` may act on progress (cancel,
 * kill). Listening starts before the request, since events may race the response.
 */
function run(req: object, onProgress?: (e: ProgressEvent) => void): Promise<{ jobId: string; end: { done?: JobDone; failed?: JobFailed } }> {
  return new Promise((resolve, reject) => {
    let jobId: string | null = null;
    const early: CodiEvent[] = [];
    const handle = (e: CodiEvent) => {
      if (!jobId) {
        early.push(e);
        return;
      }
      if (e.type === 'job-progress' && e.progress.jobId === jobId) onProgress?.(e);
      if (e.type === 'job-done' && e.done.jobId === jobId) {
        off();
        resolve({ jobId, end: { done: e.done } });
      }
      if (e.type === 'job-failed' && e.failed.jobId === jobId) {
        off();
        resolve({ jobId, end: { failed: e.failed } });
      }
    };
    const off = host.onEvent(handle);
    void host.request('runTool', req as never).then((r) => {
      if (!r.ok) {
        off();
        reject(new Error(r.error.message));
        return;
      }
      jobId = r.value.jobId;
      for (const e of early.splice(0)) handle(e);
    });
  });
}

describe('engine with real packs', () => {
  it('lists packs with the provider in use', async () => {
    const r = await host.request('listPacks', {});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.provider.active).toBe('cpu');
    expect(r.value.packs.find((p) => p.name === packs.edit)?.instructions).toEqual(packs.instructions);
  });

  it('restores ×2 with tiles and reports step and tile progress', async () => {
    const imageId = await openColour(50, 34);
    const progress: CodiEvent[] = [];
    const { jobId, end } = await run({ tool: 'restore', imageId, seed: 5 }, (e) => progress.push(e));
    expect(end.failed).toBeUndefined();
    expect([end.done?.width, end.done?.height]).toEqual([100, 68]);
    const steps = progress.filter((e) => e.type === 'job-progress' && e.progress.stage === 'denoising');
    expect(steps.length).toBeGreaterThan(2);
    const last = steps.at(-1) as CodiEvent & { type: 'job-progress' };
    expect(last.progress.step).toEqual({ i: 2, n: 2 });
    expect(last.progress.tile?.i).toBe(last.progress.tile?.m);
    const px = await host.request('getImagePixels', { imageId: end.done!.resultImageId });
    expect(px.ok && px.value.rgba.length).toBe(100 * 68 * 4);
    const st = await host.request('jobStatus', { jobId });
    expect(st.ok && st.value.state).toBe('done');
  });

  it('is deterministic for a seed and different across seeds', async () => {
    const imageId = await openColour(32, 32);
    const pixels = async (seed: number) => {
      const { end } = await run({ tool: 'edit', imageId, prompt: 'make it dark', seed });
      const px = await host.request('getImagePixels', { imageId: end.done!.resultImageId });
      return px.ok ? Buffer.from(px.value.rgba) : Buffer.alloc(0);
    };
    const a = await pixels(1);
    expect(a.equals(await pixels(1))).toBe(true);
    expect(a.equals(await pixels(2))).toBe(false);
  });

  it('inpaints inside the mask and leaves every pixel outside it bit-identical', async () => {
    const W = 48;
    const H = 40;
    const raw = Buffer.alloc(W * H * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 251;
    const png = await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
    const opened = await host.request('openImage', { source: 'bytes', bytes: new Uint8Array(png) });
    if (!opened.ok) throw new Error(opened.error.message);
    const mask = new Uint8Array(W * H);
    for (let y = 12; y < 24; y++) for (let x = 20; x < 34; x++) mask[y * W + x] = 255;
    const { end } = await run({ tool: 'inpaint', imageId: opened.value.imageId, mask: { width: W, height: H, data: mask } });
    expect(end.failed).toBeUndefined();
    const before = await host.request('getImagePixels', { imageId: opened.value.imageId });
    const after = await host.request('getImagePixels', { imageId: end.done!.resultImageId });
    if (!before.ok || !after.ok) throw new Error('no pixels');
    let changedInside = 0;
    for (let i = 0; i < W * H; i++) {
      for (let k = 0; k < 4; k++) {
        const same = before.value.rgba[i * 4 + k] === after.value.rgba[i * 4 + k];
        if (mask[i] === 0) expect(same).toBe(true);
        else if (!same) changedInside++;
      }
    }
    expect(changedInside).toBeGreaterThan(100);
  });

  it('refuses unknown instructions and names the known ones', async () => {
    const imageId = await openColour(16, 16);
    const { end } = await run({ tool: 'edit', imageId, prompt: 'make it purple' });
    expect(end.failed?.code).toBe('invalid-request');
    expect(end.failed?.message).toMatch(/unknown instruction "make it purple".*"make it dark"/);
  });

  it('cancels between steps/tiles without restarting the engine', async () => {
    const pid = host.pid;
    const imageId = await openColour(200, 200);
    let cancelled = false;
    const { end } = await run({ tool: 'restore', imageId }, (e) => {
      if (!cancelled && e.progress.stage === 'denoising') {
        cancelled = true;
        void host.request('cancelJob', { jobId: e.progress.jobId });
      }
    });
    expect(end.failed?.cancelled).toBe(true);
    expect(end.failed?.code).toBe('cancelled');
    expect(host.pid).toBe(pid);
  });

  it('fails the running job with a clear message when the engine is killed, restarts, and the next job succeeds', async () => {
    const pid = host.pid;
    const imageId = await openColour(200, 200);
    let killed = false;
    const { end } = await run({ tool: 'restore', imageId }, (e) => {
      if (!killed && e.progress.stage === 'denoising') {
        killed = true;
        host.killEngine();
      }
    });
    expect(end.failed?.code).toBe('engine-crashed');
    expect(end.failed?.message).toBe(
      'the engine stopped unexpectedly (signal SIGKILL); the job was not completed; the engine has been restarted',
    );
    await host.start();
    expect(host.status.state).toBe('ready');
    expect(host.pid).not.toBe(pid);
    expect(events.some((e) => e.type === 'engine-status' && e.status.state === 'restarting')).toBe(true);
    // The image opened before the crash is re-opened under the same id.
    const small = await openColour(24, 24);
    const again = await run({ tool: 'restore', imageId: small });
    expect(again.end.done?.width).toBe(48);
    const reuse = await host.request('getImagePixels', { imageId, maxSide: 50 });
    expect(reuse.ok && [reuse.value.width, reuse.value.height]).toEqual([50, 50]);
  });

  it('saves atomically and never over an existing file unless asked', async () => {
    const imageId = await openColour(20, 20);
    const out = path.join(tmp, 'saved.png');
    const first = await host.request('saveImage', { imageId, path: out, format: 'png' });
    expect(first.ok).toBe(true);
    const second = await host.request('saveImage', { imageId, path: out, format: 'png' });
    expect(!second.ok && second.error.code).toBe('exists');
    const third = await host.request('saveImage', { imageId, path: out, format: 'png', overwrite: true });
    expect(third.ok).toBe(true);
  });

  it('rejects malformed requests at the broker and the engine', async () => {
    const r = await host.request('runTool', { tool: 'restore', imageId: 'nope' } as never);
    expect(!r.ok && r.error.code).toBe('invalid-request');
    const missing = await host.request('runTool', { tool: 'restore', imageId: 'img_doesnotexist' });
    expect(!missing.ok && missing.error.code).toBe('image-gone');
  });
});
