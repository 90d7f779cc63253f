/**
 * Engine faults, seen from the UI side (the real web server + a WebSocket client speaking the
 * contract): the engine killed mid-job, a hung run stopped by the watchdog, and an allocation
 * failure on a large tile (injected at the ORT session seam of a real pack) retried with
 * smaller tiles and reported in the job notes.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { CodiEvent } from '../../electron/contract/schemas.ts';
import { createImageCodec } from '../../electron/engine/images/codec.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import type { ExternalDataFile, LoadedSession } from '../../electron/engine/ort.ts';
import { EngineService } from '../../electron/engine/service.ts';
import { makeTestPacks } from '../engine/fixtures/packs.ts';
import type { TestPacks } from '../engine/fixtures/packs.ts';
import { OriginalsLedger, pingMs, startStack } from './harness.ts';
import type { EngineStack } from './harness.ts';

let tmp: string;
let packs: TestPacks;
let stack: EngineStack;
const ledger = new OriginalsLedger();
const STALL_MS = 4000;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-faults-engine-'));
  packs = await makeTestPacks(path.join(tmp, 'packs'));
  const rendererDir = path.join(tmp, 'renderer');
  await mkdir(rendererDir, { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  stack = await startStack({ packDirs: [{ path: packs.dir, source: 'bundled' }], providers: ['cpu'], threads: 1 }, rendererDir, { stallTimeoutMs: STALL_MS });
});
afterAll(async () => {
  await stack?.stop();
  expect(await ledger.changed()).toEqual([]);
  await rm(tmp, { recursive: true, force: true });
});

/** An original on disk, opened by path (so the broker's ledger re-opens it after a restart). */
async function openOriginal(name: string, size: number): Promise<{ file: string; imageId: string }> {
  const file = path.join(tmp, name);
  await sharp({ create: { width: size, height: size, channels: 3, background: { r: 120, g: 60, b: 200 } } }).png().toFile(file);
  await ledger.add(file);
  const r = await stack.client.request<{ imageId: string }>('openImage', { source: 'path', path: file });
  if (!r.ok) throw new Error(r.error.message);
  return { file, imageId: r.value.imageId };
}

describe('faults: engine', () => {
  it('engine-killed-mid-job: the client stays responsive, the job fails with a message, the engine restarts and the next job succeeds', async () => {
    const { imageId } = await openOriginal('kill.png', 192);
    const pid = stack.host.pid;
    let killed = false;
    const pings: Promise<number>[] = [];
    const end = await stack.client.runJob({ tool: 'restore', imageId }, (e) => {
      if (!killed && e.progress.stage === 'denoising') {
        killed = true;
        process.kill(pid!, 'SIGKILL');
        // The UI keeps talking to the server while the engine is down.
        pings.push(pingMs(stack.client));
      }
    });
    expect(end.failed?.code).toBe('engine-crashed');
    expect(end.failed?.message).toMatch(/the engine stopped unexpectedly \(signal SIGKILL\); the job was not completed; the engine has been restarted/);
    const lag = await Promise.all(pings);
    expect(Math.max(...lag)).toBeLessThan(1000);
    const states = stack.client.events.filter((e): e is CodiEvent & { type: 'engine-status' } => e.type === 'engine-status').map((e) => e.status.state);
    expect(states).toContain('restarting');
    // The next job, on the same image id (re-opened from its file), succeeds on the new engine.
    const again = await stack.client.runJob({ tool: 'restore', imageId });
    expect(again.failed).toBeUndefined();
    expect(again.done?.width).toBe(384);
    expect(stack.host.pid).not.toBe(pid);
  });

  it('hung-run-watchdog: a run that stops making progress is killed by the watchdog and the engine restarted', async () => {
    const { imageId } = await openOriginal('hang.png', 192);
    const pid = stack.host.pid!;
    let stopped = false;
    const t0 = Date.now();
    const end = await stack.client.runJob({ tool: 'restore', imageId }, (e) => {
      if (!stopped && e.progress.stage === 'denoising') {
        stopped = true;
        // SIGSTOP freezes the engine mid-run: exactly what a hung native call looks like from outside.
        process.kill(pid, 'SIGSTOP');
      }
    });
    const waited = Date.now() - t0;
    expect(end.failed?.code).toBe('engine-crashed');
    expect(end.failed?.message).toBe(`the job made no progress for ${STALL_MS / 1000} s and was stopped; the engine has been restarted`);
    expect(waited).toBeGreaterThanOrEqual(STALL_MS - 100);
    expect(() => process.kill(pid, 0)).toThrow(); // the frozen process is gone
    const again = await stack.client.runJob({ tool: 'restore', imageId });
    expect(again.done?.width).toBe(384);
  });

  it('oom-large-tile: an allocation failure on a big tile is retried with smaller tiles and the user is told', async () => {
    /** ORT's own allocation message for any tile with a latent area above the cap (16×16 latent = 64 px tiles). */
    class TightMemoryRuntime extends OrtRuntime {
      override async load(key: string, model: Uint8Array, ext?: readonly ExternalDataFile[]): Promise<LoadedSession> {
        const s = await super.load(key, model, ext);
        return {
          ...s,
          inputNames: s.inputNames,
          outputNames: s.outputNames,
          run: async (feeds) => {
            const z = feeds.z;
            if (z && (z.dims[2] as number) * (z.dims[3] as number) > 16 * 16) {
              throw new Error(`Failed to allocate memory for requested buffer of size ${z.data.byteLength * 64}`);
            }
            return s.run(feeds);
          },
        };
      }
    }
    // The same restore pack with 128-px tiles (the fixture's are already at the 64-px floor).
    const bigTiles = path.join(tmp, 'oom-packs', packs.restore);
    await cp(path.join(packs.dir, packs.restore), bigTiles, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(bigTiles, 'manifest.json'), 'utf8')) as { tile: { size: number } };
    manifest.tile.size = 128;
    await writeFile(path.join(bigTiles, 'manifest.json'), JSON.stringify(manifest));
    const events: CodiEvent[] = [];
    const service = new EngineService({
      packDirs: [{ path: path.dirname(bigTiles), source: 'bundled' }],
      runtime: new TightMemoryRuntime({ providers: ['cpu'], threads: 1 }),
      codec: createImageCodec({}),
      emit: (e) => events.push(e),
      maxTile: 128,
    });
    await service.init();
    const { file } = await openOriginal('oom.png', 96);
    const opened = await service.handlers.openImage({ source: 'path', path: file });
    if (!opened.ok) throw new Error(opened.error.message);
    const job = await service.handlers.runTool({ tool: 'restore', imageId: opened.value.imageId, seed: 1, priority: 'interactive' });
    if (!job.ok) throw new Error(job.error.message);
    const end = await new Promise<CodiEvent>((resolve) => {
      const t = setInterval(() => {
        const e = events.find((x) => x.type === 'job-done' || x.type === 'job-failed');
        if (e) {
          clearInterval(t);
          resolve(e);
        }
      }, 20);
    });
    expect(end.type).toBe('job-done');
    if (end.type !== 'job-done') return;
    expect([end.done.width, end.done.height]).toEqual([192, 192]);
    expect(end.done.notes).toContain('ran out of memory; retried with smaller tiles (64 px)');
    const told = events.filter((e) => e.type === 'job-progress' && e.progress.stage === 'retrying');
    expect(told.length).toBeGreaterThan(0);
  });
});
