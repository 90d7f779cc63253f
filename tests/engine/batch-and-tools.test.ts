/**
 * With the real engine and exported test packs: a batch over a folder tree (mirror, skip,
 * corrupt file reported, pause/resume, cancel, never writing into the input), `codi batch`,
 * inpaint colour matching (pixels outside the mask stay bit-identical), and an instruction
 * edit on a photo larger than the pack's working size (run small, carried to full size).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createCodiApi } from '../../electron/broker/api.ts';
import { BatchRun, checkFolders, listImages } from '../../electron/broker/batch.ts';
import { EngineHost } from '../../electron/broker/engine-host.ts';
import { forkEngine } from '../../electron/broker/fork.ts';
import type { CodiApi } from '../../electron/contract/api.ts';
import type { BatchProgress, CodiEvent, JobDone, JobFailed } from '../../electron/contract/schemas.ts';
import { main } from '../../electron/cli/codi.ts';
import { makeTestPacks, tinyNet } from './fixtures/packs.ts';
import { initParams, seededNormal } from '../../core/nn/params.ts';
import type { ParamRecord } from '../../core/nn/params.ts';
import { adapterParamSpecs, backboneParamSpecs } from '../../core/nn/trace.ts';
import { onnxBytes } from '../../training/export/export-onnx.ts';
import { writePack } from '../../training/export/pack.ts';
import type { TestPacks } from './fixtures/packs.ts';

let tmp: string;
let packs: TestPacks;
let host: EngineHost;
let api: CodiApi;

async function photo(file: string, W: number, H: number, seed = 1): Promise<Buffer> {
  const raw = Buffer.alloc(W * H * 3);
  let s = seed;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = (s >>> 24) / 255 - 0.5;
      const i = (y * W + x) * 3;
      raw[i] = Math.max(0, Math.min(255, 60 + (150 * x) / W + 30 * n));
      raw[i + 1] = Math.max(0, Math.min(255, 80 + (100 * y) / H + 30 * n));
      raw[i + 2] = Math.max(0, Math.min(255, 180 - (120 * (x + y)) / (W + H) + 30 * n));
    }
  }
  const png = await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
  if (file) await writeFile(file, png);
  return png;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-batch-'));
  packs = await makeTestPacks(path.join(tmp, 'packs'));
  await writeDepthPack(path.join(packs.dir, 'test-depth'));
  host = new EngineHost({ spawn: forkEngine({ packDirs: [{ path: packs.dir, source: 'bundled' }], providers: ['cpu'], threads: 1 }) });
  api = createCodiApi(host, { appInfo: { mode: 'cli', version: '0', nativeDialogs: false, canSaveToPath: true } });
  await host.start();
}, 300_000);

afterAll(async () => {
  await host?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A depth-to-image denoiser (16 condition channels), exported like the shared test packs. */
async function writeDepthPack(d: string): Promise<void> {
  await mkdir(d, { recursive: true });
  // Small seeded noise on every weight so zero-initialised layers (the condition path, μ) matter.
  const perturb = (rec: ParamRecord, seed: number): ParamRecord => {
    const n = seededNormal(seed);
    for (const [name, p] of Object.entries(rec)) for (let i = 0; i < p.data.length; i++) p.data[i] = name === 'mu' ? 0.3 : (p.data[i] as number) + 0.05 * n();
    return rec;
  };
  const backbone = perturb(initParams(backboneParamSpecs(tinyNet), 11), 111);
  const adapter = perturb(initParams(adapterParamSpecs(tinyNet, { condChannels: 16, textDim: 0 }), 12), 112);
  await writeFile(path.join(d, 'denoiser.onnx'), onnxBytes(tinyNet, 'denoiser', { backbone, adapter }));
  await writePack(d, {
    manifest: {
      name: 'test-depth',
      version: '0.0.1-test',
      title: 'Test depth',
      prediction: 'v',
      schedule: { kind: 'scaled-linear', trainSteps: 1000, betaStart: 0.00085, betaEnd: 0.012 },
      sampler: { kind: 'codi', steps: 2, maxSteps: 8, distillSteps: 50 },
      latent: { kind: 'pixel-unshuffle', factor: 4 },
      upscale: 1,
      tile: { size: 64, overlap: 16 },
      task: 'depth',
      method: 'codi',
      conditionChannels: 16,
      textEmbeddingDim: 0,
    },
    files: [{ path: 'denoiser.onnx', role: 'denoiser' }],
    modelCard: '# Test depth\n\nTiny randomly initialised network for tests.\n',
  });
}

async function inputTree(root: string): Promise<void> {
  await mkdir(path.join(root, 'sub', 'deeper'), { recursive: true });
  await photo(path.join(root, 'a.png'), 40, 32, 1);
  await photo(path.join(root, 'sub', 'b.png'), 36, 28, 2);
  await photo(path.join(root, 'sub', 'deeper', 'c.png'), 32, 32, 3);
  await writeFile(path.join(root, 'sub', 'broken.png'), Buffer.from('this is not a png at all'));
  await writeFile(path.join(root, 'notes.txt'), 'ignored');
}

describe('batch', () => {
  it('mirrors the tree, reports the corrupt file, skips existing outputs and never writes into the input', async () => {
    const inDir = path.join(tmp, 'in1');
    const outDir = path.join(tmp, 'out1');
    await inputTree(inDir);
    expect(await listImages(inDir)).toEqual(['a.png', path.join('sub', 'b.png'), path.join('sub', 'broken.png'), path.join('sub', 'deeper', 'c.png')]);
    expect(await checkFolders(inDir, path.join(inDir, 'out'))).toMatch(/inside/);
    expect(await checkFolders(inDir, inDir)).toMatch(/inside/);
    expect(await checkFolders(path.join(tmp, 'nope'), outDir)).toMatch(/does not exist/);
    expect(await checkFolders(inDir, outDir)).toBeNull();
    const inputsBefore = await readdir(inDir, { recursive: true });

    const events: BatchProgress[] = [];
    const run = new BatchRun('batch_t1', api, { tool: 'restore', pack: packs.restore, inDir, outDir, seed: 0, steps: 1, quality: 95, keepMetadata: false, overwrite: false }, (p) => events.push(p));
    expect(await run.prepare()).toBe(4);
    const end = await run.run();
    expect(end.state).toBe('done');
    expect(end.done).toBe(4);
    expect(end.succeeded).toBe(3);
    expect(end.results).toHaveLength(1);
    expect(end.results[0]!.status).toBe('failed');
    expect(end.results[0]!.input).toContain('broken.png');
    const c = await sharp(path.join(outDir, 'sub', 'deeper', 'c.png')).metadata();
    expect([c.width, c.height]).toEqual([64, 64]);
    expect(events.some((e) => e.current === path.join('sub', 'b.png'))).toBe(true);
    expect((await readdir(inDir, { recursive: true })).sort()).toEqual(inputsBefore.sort());

    // Second run: every output exists, so every good file is skipped (and nothing rewritten).
    const mtime = (await stat(path.join(outDir, 'a.png'))).mtimeMs;
    const again = new BatchRun('batch_t2', api, { tool: 'restore', pack: packs.restore, inDir, outDir, seed: 0, steps: 1, quality: 95, keepMetadata: false, overwrite: false });
    await again.prepare();
    const end2 = await again.run();
    expect(end2.results.filter((r) => r.status === 'skipped')).toHaveLength(3);
    expect((await stat(path.join(outDir, 'a.png'))).mtimeMs).toBe(mtime);
  }, 300_000);

  it('pauses between files, resumes, and cancels the rest', async () => {
    const inDir = path.join(tmp, 'in2');
    await inputTree(inDir);
    const outDir = path.join(tmp, 'out2');
    let paused = false;
    let sawPause = false;
    const run: BatchRun = new BatchRun('batch_t3', api, { tool: 'restore', pack: packs.restore, inDir, outDir, seed: 0, steps: 1, quality: 95, keepMetadata: false, overwrite: false }, (p) => {
      if (p.state === 'paused') sawPause = true;
      if (!paused && p.done === 1) {
        paused = true;
        run.pause();
        setTimeout(() => run.resume(), 300);
      }
      if (p.done === 2 && p.state === 'running') run.cancel();
    });
    await run.prepare();
    const end = await run.run();
    expect(sawPause).toBe(true);
    expect(end.state).toBe('cancelled');
    expect(run.report.filter((r) => r.status === 'done')).toHaveLength(2);
    expect(run.report.filter((r) => r.status === 'cancelled').length).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it('runs through the broker channels with batch-progress events', async () => {
    const inDir = path.join(tmp, 'in3');
    await mkdir(inDir, { recursive: true });
    await photo(path.join(inDir, 'x.png'), 32, 32);
    const events: CodiEvent[] = [];
    const off = api.onEvent((e) => events.push(e));
    const bad = await api.startBatch({ tool: 'restore', inDir, outDir: path.join(inDir, 'o') });
    expect(bad.ok).toBe(false);
    const r = await api.startBatch({ tool: 'restore', pack: packs.restore, inDir, outDir: path.join(tmp, 'out3'), steps: 1 });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.files).toBe(1);
    const last = await new Promise<BatchProgress>((resolve) => {
      const t = setInterval(() => {
        const done = events.find((e) => e.type === 'batch-progress' && e.batch.state === 'done');
        if (done && done.type === 'batch-progress') {
          clearInterval(t);
          resolve(done.batch);
        }
      }, 50);
    });
    off();
    expect(last.succeeded).toBe(1);
    expect((await api.cancelBatch({ batchId: r.value.batchId })).ok).toBe(true);
    expect((await api.pauseBatch({ batchId: 'batch_unknown' })).ok).toBe(false);
  }, 300_000);

  it('codi batch prints the per-file report and exits 1 when a file failed', async () => {
    const inDir = path.join(tmp, 'in4');
    await inputTree(inDir);
    const lines: string[] = [];
    const io = { env: { ...process.env, CODI_PACKS: packs.dir, CODI_USER_PACKS: path.join(tmp, 'user'), CODI_EP: 'cpu', CODI_THREADS: '1' }, out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), tty: false };
    expect(await main(['batch', packs.restore, inDir, '-o', path.join(inDir, 'o')], io)).toBe(2);
    expect(await main(['batch', packs.restore, inDir, '-o', path.join(tmp, 'out4'), '--steps', '1', '--format', 'jpeg'], io)).toBe(1);
    const text = lines.join('\n');
    expect(text).toMatch(/failed\s+\S*broken\.png/);
    expect(text).toMatch(/3 written, 0 skipped, 1 failed/);
    expect((await sharp(path.join(tmp, 'out4', 'sub', 'b.jpg')).metadata()).format).toBe('jpeg');
  }, 300_000);
});

function runJob(req: object): Promise<{ done?: JobDone; failed?: JobFailed }> {
  return new Promise((resolve, reject) => {
    let jobId: string | null = null;
    const early: CodiEvent[] = [];
    const on = (e: CodiEvent) => {
      if (!jobId) return void early.push(e);
      if (e.type === 'job-done' && e.done.jobId === jobId) {
        off();
        resolve({ done: e.done });
      }
      if (e.type === 'job-failed' && e.failed.jobId === jobId) {
        off();
        resolve({ failed: e.failed });
      }
    };
    const off = api.onEvent(on);
    void api.runTool(req as never).then((r) => {
      if (!r.ok) return reject(new Error(r.error.message));
      jobId = r.value.jobId;
      for (const e of early.splice(0)) on(e);
    });
  });
}

describe('step limit', () => {
  it("the engine refuses more steps than the pack's manifest allows, with the same message as codi run", async () => {
    const opened = await api.openImage({ source: 'bytes', bytes: new Uint8Array(await photo('', 32, 24)) });
    if (!opened.ok) throw new Error(opened.error.message);
    const r = await api.runTool({ tool: 'restore', imageId: opened.value.imageId, steps: 99, seed: 0, priority: 'batch' });
    expect(!r.ok && r.error.code).toBe('invalid-request');
    expect(!r.ok && r.error.message).toBe("test-restore-x2 runs 1 to 8 steps (its manifest's limit), not 99");
  });
});

describe('tool quality paths', () => {
  it('inpaint matches the fill colour to its surroundings and keeps every outside pixel', async () => {
    const W = 64;
    const H = 48;
    const opened = await api.openImage({ source: 'bytes', bytes: new Uint8Array(await photo('', W, H, 9)) });
    if (!opened.ok) throw new Error(opened.error.message);
    const mask = new Uint8Array(W * H);
    for (let y = 16; y < 32; y++) for (let x = 20; x < 44; x++) mask[y * W + x] = 255;
    const end = await runJob({ tool: 'inpaint', imageId: opened.value.imageId, steps: 1, mask: { width: W, height: H, data: mask } });
    expect(end.done?.notes.join(' ')).toMatch(/colour matched/);
    const a = await api.getImagePixels({ imageId: opened.value.imageId });
    const b = await api.getImagePixels({ imageId: end.done!.resultImageId });
    if (!a.ok || !b.ok) throw new Error('no pixels');
    for (let i = 0; i < W * H; i++) if (mask[i] === 0) for (let k = 0; k < 4; k++) expect(b.value.rgba[i * 4 + k]).toBe(a.value.rgba[i * 4 + k]);
    // The ring just inside the mask edge is pulled towards the ring just outside it.
    const ringMean = (rgba: Uint8Array, inside: boolean) => {
      let s = 0;
      let n = 0;
      for (let y = 14; y < 34; y++) {
        for (let x = 18; x < 46; x++) {
          const m = mask[y * W + x] === 255;
          const edge = y < 18 || y >= 30 || x < 22 || x >= 42;
          if (m === inside && edge) {
            s += rgba[(y * W + x) * 4]!;
            n++;
          }
        }
      }
      return s / n;
    };
    expect(Math.abs(ringMean(b.value.rgba, true) - ringMean(a.value.rgba, false))).toBeLessThan(40);
  }, 300_000);

  it('edits a photo larger than the working size at working size and keeps full-size detail', async () => {
    const W = 256;
    const H = 192;
    const png = await photo('', W, H, 5);
    const opened = await api.openImage({ source: 'bytes', bytes: new Uint8Array(png) });
    if (!opened.ok) throw new Error(opened.error.message);
    const end = await runJob({ tool: 'edit', imageId: opened.value.imageId, prompt: packs.instructions[0], steps: 1 });
    expect(end.failed).toBeUndefined();
    expect([end.done!.width, end.done!.height]).toEqual([W, H]);
    expect(end.done!.notes.join(' ')).toMatch(/edited at 64×48, carried to 256×192/);
    const a = await api.getImagePixels({ imageId: opened.value.imageId });
    const b = await api.getImagePixels({ imageId: end.done!.resultImageId });
    if (!a.ok || !b.ok) throw new Error('no pixels');
    // Pixel-level noise of the original (its detail) survives: neighbour differences correlate.
    let num = 0;
    let da2 = 0;
    let db2 = 0;
    for (let i = 0; i + 4 < W * H * 4; i += 4) {
      const da = a.value.rgba[i + 4]! - a.value.rgba[i]!;
      const db = b.value.rgba[i + 4]! - b.value.rgba[i]!;
      num += da * db;
      da2 += da * da;
      db2 += db * db;
    }
    expect(num / Math.sqrt(da2 * db2)).toBeGreaterThan(0.5);
  }, 300_000);

  it('generates from a separate 16-bit depth map given as the condition', async () => {
    const W = 48;
    const H = 32;
    const depth16 = new Uint16Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) depth16[y * W + x] = Math.round((65535 * x) / (W - 1));
    // the Uint16Array itself: from a Buffer sharp reads the bytes as 8-bit samples and the ramp becomes byte noise
    const depthPng = await sharp(depth16, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    const dm = await api.openImage({ source: 'bytes', bytes: new Uint8Array(depthPng), name: 'depth.png' });
    if (!dm.ok) throw new Error(dm.error.message);
    expect(dm.value.metadata.bitDepth).toBe(16);
    const canvas = await api.openImage({ source: 'bytes', bytes: new Uint8Array(await photo('', W * 2, H * 2, 4)) });
    if (!canvas.ok) throw new Error(canvas.error.message);
    const run1 = await runJob({ tool: 'depth', imageId: canvas.value.imageId, condition: dm.value.imageId, steps: 1 });
    expect(run1.failed).toBeUndefined();
    expect([run1.done!.width, run1.done!.height]).toEqual([W * 2, H * 2]);
    expect(run1.done!.notes.join(' ')).toMatch(/depth map 48×32, 16-bit, resized to 96×64/);
    // A different depth map gives a different picture: the condition is really used.
    const flat = await api.openImage({ source: 'bytes', bytes: new Uint8Array(await sharp({ create: { width: W, height: H, channels: 3, background: { r: 30, g: 30, b: 30 } } }).png().toBuffer()) });
    if (!flat.ok) throw new Error(flat.error.message);
    const run2 = await runJob({ tool: 'depth', imageId: canvas.value.imageId, condition: flat.value.imageId, steps: 1 });
    const a = await api.getImagePixels({ imageId: run1.done!.resultImageId });
    const b = await api.getImagePixels({ imageId: run2.done!.resultImageId });
    if (!a.ok || !b.ok) throw new Error('no pixels');
    expect(Buffer.compare(Buffer.from(a.value.rgba), Buffer.from(b.value.rgba))).not.toBe(0);
    const bad = await api.runTool({ tool: 'edit', imageId: canvas.value.imageId, condition: dm.value.imageId, prompt: packs.instructions[0] });
    expect(bad.ok).toBe(false);
  }, 300_000);
});
