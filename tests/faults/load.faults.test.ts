/**
 * Load: 200 mixed jobs queued at once on the real engine service (real packs, real ORT), a
 * third of them cancelled (some while queued, some while running). Every job ends exactly
 * once (done or cancelled, none lost or duplicated), cancelled jobs leave no result image,
 * and after releasing what the UI holds the image store is empty and ORT holds one session
 * per graph file. The browser-side load case (240 Hz brush stream) is in brush.faults.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { CodiEvent } from '../../electron/contract/schemas.ts';
import { createImageCodec } from '../../electron/engine/images/codec.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import { EngineService } from '../../electron/engine/service.ts';
import { makeTestPacks } from '../engine/fixtures/packs.ts';
import type { TestPacks } from '../engine/fixtures/packs.ts';
import { Prng } from './fuzz.ts';

const JOBS = 200;
let tmp: string;
let packs: TestPacks;
let service: EngineService;
let runtime: OrtRuntime;
const events: CodiEvent[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-faults-load-'));
  packs = await makeTestPacks(path.join(tmp, 'packs'));
  runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });
  service = new EngineService({ packDirs: [{ path: packs.dir, source: 'bundled' }], runtime, codec: createImageCodec({}), emit: (e) => events.push(e) });
  await service.init();
});
afterAll(async () => {
  await runtime.releaseAll();
  await rm(tmp, { recursive: true, force: true });
});

describe('faults: load', () => {
  it(`queue-flood: ${JOBS} queued jobs with cancellations all finish correctly, with no leaked images or sessions`, async () => {
    const inputs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const png = await sharp({ create: { width: 16 + 8 * i, height: 16, channels: 3, background: { r: 40 * i, g: 100, b: 200 - 30 * i } } }).png().toBuffer();
      const r = await service.handlers.openImage({ source: 'bytes', bytes: new Uint8Array(png) });
      if (!r.ok) throw new Error(r.error.message);
      inputs.push(r.value.imageId);
    }
    const r = new Prng(99);
    const jobs: { jobId: string; cancel: 'no' | 'queued' | 'running' }[] = [];
    const cancelWhenRunning = new Set<string>();
    const off = (() => {
      // Cancel "running" candidates on their first progress report.
      const seen = new Set<string>();
      const check = setInterval(() => {
        for (const e of events) {
          if (e.type !== 'job-progress' || seen.has(e.progress.jobId) || !cancelWhenRunning.has(e.progress.jobId)) continue;
          seen.add(e.progress.jobId);
          void service.handlers.cancelJob({ jobId: e.progress.jobId });
        }
      }, 1);
      return () => clearInterval(check);
    })();
    for (let i = 0; i < JOBS; i++) {
      const imageId = inputs[i % inputs.length]!;
      const tool = r.pick(['restore', 'edit', 'inpaint'] as const);
      const img = service.images.get(imageId)!;
      const req =
        tool === 'edit'
          ? { tool, imageId, prompt: packs.instructions[0], seed: i, priority: 'batch' as const }
          : tool === 'inpaint'
            ? { tool, imageId, mask: { width: img.width, height: img.height, data: new Uint8Array(img.width * img.height).fill(255, 0, img.width * 4) }, seed: i, priority: 'batch' as const }
            : { tool, imageId, seed: i, priority: 'batch' as const };
      const sub = await service.handlers.runTool(req);
      if (!sub.ok) throw new Error(sub.error.message);
      const roll = r.next();
      const cancel = roll < 0.17 ? 'queued' : roll < 0.34 ? 'running' : 'no';
      jobs.push({ jobId: sub.value.jobId, cancel });
      if (cancel === 'queued') expect((await service.handlers.cancelJob({ jobId: sub.value.jobId })).ok).toBe(true);
      if (cancel === 'running') cancelWhenRunning.add(sub.value.jobId);
    }
    const ends = () => events.filter((e) => e.type === 'job-done' || e.type === 'job-failed');
    const t0 = Date.now();
    while (ends().length < JOBS && Date.now() - t0 < 120_000) await new Promise((res) => setTimeout(res, 20));
    off();
    const endOf = new Map<string, CodiEvent[]>();
    for (const e of ends()) {
      const id = e.type === 'job-done' ? e.done.jobId : e.type === 'job-failed' ? e.failed.jobId : '';
      endOf.set(id, [...(endOf.get(id) ?? []), e]);
    }
    let done = 0;
    let cancelled = 0;
    for (const j of jobs) {
      const es = endOf.get(j.jobId) ?? [];
      expect(es.length, `${j.jobId} ended ${es.length} times`).toBe(1);
      const e = es[0]!;
      if (e.type === 'job-failed') {
        expect(e.failed.cancelled, `${j.jobId}: ${e.failed.message}`).toBe(true);
        expect(j.cancel).not.toBe('no');
        cancelled++;
      } else {
        expect(j.cancel).not.toBe('queued');
        done++;
      }
    }
    expect(done + cancelled).toBe(JOBS);
    expect(cancelled).toBeGreaterThanOrEqual(jobs.filter((j) => j.cancel === 'queued').length);
    // The store holds the inputs plus exactly one result per finished job; releasing them empties it.
    expect(service.images.size).toBe(inputs.length + done);
    const results = ends().flatMap((e) => (e.type === 'job-done' ? [e.done.resultImageId] : []));
    for (const id of [...inputs, ...results]) expect((await service.handlers.releaseImage({ imageId: id })).ok).toBe(true);
    expect(service.images.size).toBe(0);
    expect(service.images.usedBytes).toBe(0);
    // One ORT session per graph file: restore denoiser, edit denoiser, inpaint adapter + its backbone.
    expect((runtime as unknown as { sessions: Map<string, unknown> }).sessions.size).toBe(4);
    console.log(`[faults] queue flood: ${JOBS} jobs, ${done} done, ${cancelled} cancelled, 0 lost, ${Date.now() - t0} ms`);
  });
});
