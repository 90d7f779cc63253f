/**
 * An inpaint pack with `holeFill: 'telea'` gets the classic fill under the hole of its condition
 * (and, being residual, adds its change to it), and one with `fillSamples` n returns the mean of n
 * samples; either way every pixel outside the mask is the photo's own.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { CodiEvent } from '../../electron/contract/schemas.ts';
import { createImageCodec } from '../../electron/engine/images/codec.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import { EngineService } from '../../electron/engine/service.ts';
import { teleaFill } from '../../core/image/telea.ts';
import { jobDone } from './fixtures/job-end.ts';
import { makeTestPacks } from './fixtures/packs.ts';
import type { TestPacks } from './fixtures/packs.ts';

let tmp: string;
let packs: TestPacks;
let runtime: OrtRuntime;
const events: CodiEvent[] = [];
const W = 48;
const H = 32;

async function serviceWith(changes: Record<string, unknown>): Promise<EngineService> {
  const file = path.join(packs.dir, packs.inpaint, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  for (const k of ['holeFill', 'fillSamples', 'fillSource']) delete manifest[k];
  await writeFile(file, JSON.stringify({ ...manifest, residual: 'condition', ...changes }));
  const service = new EngineService({ packDirs: [{ path: packs.dir, source: 'bundled' }], runtime, codec: createImageCodec({}), emit: (e) => events.push(e) });
  await service.init();
  return service;
}

/** Inpaint a gradient photo; returns the result's RGBA, the input's and the job's notes. */
async function fill(service: EngineService, mask: Uint8Array): Promise<{ before: Uint8Array; after: Uint8Array; notes: string }> {
  const raw = new Uint8Array(W * H * 3).map((_, i) => (i % 3 === 0 ? 40 + Math.floor(i / 3) % W * 3 : i % 3 === 1 ? 90 : 200 - Math.floor(i / (3 * W)) * 2));
  const png = await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
  const opened = await service.handlers.openImage({ source: 'bytes', bytes: new Uint8Array(png) });
  if (!opened.ok) throw new Error(opened.error.message);
  const sub = await service.handlers.runTool({ tool: 'inpaint', imageId: opened.value.imageId, mask: { width: W, height: H, data: mask }, seed: 3, steps: 1, priority: 'interactive' });
  if (!sub.ok) throw new Error(sub.error.message);
  const done = await jobDone(events, sub.value.jobId);
  const before = await service.handlers.getImagePixels({ imageId: opened.value.imageId });
  const after = await service.handlers.getImagePixels({ imageId: done.resultImageId });
  if (!before.ok || !after.ok) throw new Error('no pixels');
  return { before: before.value.rgba, after: after.value.rgba, notes: done.notes.join(' ') };
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-inpaint-base-'));
  packs = await makeTestPacks(path.join(tmp, 'packs'));
  runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });
});
afterAll(async () => {
  await runtime.releaseAll();
  await rm(tmp, { recursive: true, force: true });
});

describe('inpaint on the classic fill', () => {
  it("fills over the Telea base with holeFill 'telea', averages fillSamples draws, and keeps every pixel outside the mask", async () => {
    const mask = new Uint8Array(W * H);
    for (let y = 8; y < 22; y++) for (let x = 14; x < 30; x++) mask[y * W + x] = 255;
    const zero = await fill(await serviceWith({}), mask);
    const telea = await fill(await serviceWith({ holeFill: 'telea' }), mask);
    const mean = await fill(await serviceWith({ holeFill: 'telea', fillSamples: 2 }), mask);
    expect(mean.notes).toMatch(/the mean of 2 samples/);
    expect(telea.notes).not.toMatch(/the mean of/);
    let differs = 0;
    for (let i = 0; i < W * H; i++) {
      for (let k = 0; k < 3; k++) {
        const j = i * 4 + k;
        if (mask[i] === 0) for (const r of [zero, telea, mean]) expect(r.after[j]).toBe(r.before[j]);
        else if (telea.after[j] !== zero.after[j]) differs++;
      }
    }
    // the base under the hole changed, so the fill did
    expect(differs).toBeGreaterThan(100);
    expect(Array.from(mean.after)).not.toEqual(Array.from(telea.after));
  }, 120_000);

  it("gives the classic Telea fill without running the model when the pack declares fillSource 'classic'", async () => {
    const mask = new Uint8Array(W * H);
    for (let y = 10; y < 20; y++) for (let x = 5; x < 25; x++) mask[y * W + x] = 255;
    const r = await fill(await serviceWith({ holeFill: 'telea', fillSource: 'classic' }), mask);
    expect(r.notes).toMatch(/classic Telea fill .* measured below it/);
    // the same fill computed here on the input (0–255 → [−1, 1]), pasted with weight 1 two pixels in from the mask's edge
    const img = new Float32Array(3 * W * H);
    for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) img[c * W * H + i] = ((r.before[i * 4 + c] as number) / 255) * 2 - 1;
    const telea = teleaFill({ data: img, shape: [1, 3, H, W] }, { data: Float32Array.from(mask, (v) => v / 255), shape: [1, 1, H, W] });
    for (let i = 0; i < W * H; i++) {
      for (let c = 0; c < 3; c++) {
        if (mask[i] === 0) expect(r.after[i * 4 + c]).toBe(r.before[i * 4 + c]);
        else if (Math.floor(i / W) >= 12 && Math.floor(i / W) < 18 && i % W >= 7 && i % W < 23) expect(Math.abs((r.after[i * 4 + c] as number) - (((telea.data[c * W * H + i] as number) + 1) / 2) * 255)).toBeLessThanOrEqual(1);
      }
    }
  }, 120_000);
});
