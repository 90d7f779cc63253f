/**
 * Diffusers packs through the engine process and the contract, the path the app uses:
 * listPacks, runTool inpaint / restore / edit with progress events, request guidance fields,
 * cancellation between steps, and a same-size tampered file turning the pack invalid.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EngineHost } from '../../electron/broker/engine-host.ts';
import { forkEngine } from '../../electron/broker/fork.ts';
import type { CodiEvent, JobDone, JobFailed, JobProgress, PackInfo } from '../../electron/contract/schemas.ts';
import { importTinyPacks, PACKS, testEnv } from './fixtures.ts';

let tmp: string;
let userPacks: string;
let host: EngineHost;

function startEngine(dir: string): Promise<EngineHost> {
  const h = new EngineHost({ spawn: forkEngine({ packDirs: [{ path: dir, source: 'user' }], providers: ['cpu'], threads: 1 }) });
  return h.start().then(() => h);
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-diffusers-engine-'));
  userPacks = path.join(tmp, 'user-packs');
  await importTinyPacks(tmp, testEnv(tmp, userPacks));
  host = await startEngine(userPacks);
});
afterAll(async () => {
  await host?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function openPattern(h: EngineHost, width: number, height: number): Promise<string> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 29) % 253;
  const png = await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
  const r = await h.request('openImage', { source: 'bytes', bytes: new Uint8Array(png), name: 'pattern.png' });
  if (!r.ok) throw new Error(r.error.message);
  return r.value.imageId;
}

/** Submit a job and resolve with its end event and its progress; events may race the response. */
function run(h: EngineHost, req: object, onProgress?: (p: JobProgress) => void): Promise<{ done?: JobDone; failed?: JobFailed; progress: JobProgress[] }> {
  return new Promise((resolve, reject) => {
    let jobId: string | null = null;
    const early: CodiEvent[] = [];
    const progress: JobProgress[] = [];
    const handle = (e: CodiEvent) => {
      if (!jobId) {
        early.push(e);
        return;
      }
      if (e.type === 'job-progress' && e.progress.jobId === jobId) {
        progress.push(e.progress);
        onProgress?.(e.progress);
      }
      if (e.type === 'job-done' && e.done.jobId === jobId) {
        off();
        resolve({ done: e.done, progress });
      }
      if (e.type === 'job-failed' && e.failed.jobId === jobId) {
        off();
        resolve({ failed: e.failed, progress });
      }
    };
    const off = h.onEvent(handle);
    void h.request('runTool', req as never).then((r) => {
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

async function pixels(h: EngineHost, imageId: string): Promise<Uint8Array> {
  const px = await h.request('getImagePixels', { imageId });
  if (!px.ok) throw new Error(px.error.message);
  return px.value.rgba;
}

async function packs(h: EngineHost): Promise<PackInfo[]> {
  const r = await h.request('listPacks', {});
  if (!r.ok) throw new Error(r.error.message);
  return r.value.packs;
}

describe('engine with diffusers packs', () => {
  it('lists the imported packs with tasks, free-text prompts and the backbone', async () => {
    const list = await packs(host);
    const by = new Map(list.map((p) => [p.name, p]));
    expect(list.every((p) => p.status === 'ok')).toBe(true);
    expect(by.get(PACKS.backbone)?.task).toBe('backbone');
    expect(by.get(PACKS.inpaint)).toMatchObject({ task: 'inpaint', takesText: true, instructions: [], source: 'user' });
    expect(by.get(PACKS.inpaintLatent)).toMatchObject({ task: 'inpaint', takesText: true });
    expect(by.get(PACKS.edit)).toMatchObject({ task: 'edit', takesText: true, instructions: [] });
    expect(by.get(PACKS.restore)).toMatchObject({ task: 'restore', upscale: 2, backbone: PACKS.backbone, method: 'pe-codi' });
    expect(by.get(PACKS.restore1)).toMatchObject({ task: 'restore', upscale: 1, backbone: PACKS.backbone });
  });

  it('inpaints with step progress; pixels outside the mask stay bit-identical; guidance matters', async () => {
    const W = 72;
    const H = 56;
    const imageId = await openPattern(host, W, H);
    const mask = new Uint8Array(W * H);
    for (let y = 20; y < 40; y++) for (let x = 30; x < 60; x++) mask[y * W + x] = 255;
    const req = { tool: 'inpaint', imageId, mask: { width: W, height: H, data: mask }, prompt: 'fill the hole', steps: 4, seed: 7, guidanceScale: 6 };
    const a = await run(host, req);
    expect(a.failed).toBeUndefined();
    const denoise = a.progress.filter((p) => p.stage === 'denoising').map((p) => p.step);
    expect(denoise.at(-1)).toEqual({ i: 4, n: 4 });
    expect(a.progress.map((p) => p.stage)).toEqual(expect.arrayContaining(['queued', 'loading', 'preparing', 'denoising', 'decoding', 'finishing']));
    const before = await pixels(host, imageId);
    const after = await pixels(host, a.done!.resultImageId);
    let changedInside = 0;
    for (let i = 0; i < W * H; i++) {
      for (let k = 0; k < 4; k++) {
        const same = before[i * 4 + k] === after[i * 4 + k];
        if (mask[i] === 0) expect(same).toBe(true);
        else if (!same) changedInside++;
      }
    }
    expect(changedInside).toBeGreaterThan(500);
    const again = await run(host, req);
    expect(Buffer.from(await pixels(host, again.done!.resultImageId)).equals(Buffer.from(after))).toBe(true);
    const lower = await run(host, { ...req, guidanceScale: 1.5, negativePrompt: 'blurry' });
    expect(Buffer.from(await pixels(host, lower.done!.resultImageId)).equals(Buffer.from(after))).toBe(false);
  });

  it('inpaints by latent masking with a plain (4-channel) pipeline pack', async () => {
    const W = 40;
    const H = 40;
    const imageId = await openPattern(host, W, H);
    const mask = new Uint8Array(W * H);
    for (let y = 10; y < 30; y++) for (let x = 5; x < 20; x++) mask[y * W + x] = 255;
    const r = await run(host, { tool: 'inpaint', pack: PACKS.inpaintLatent, imageId, mask: { width: W, height: H, data: mask }, prompt: 'a cat', steps: 3 });
    expect(r.failed).toBeUndefined();
    const before = await pixels(host, imageId);
    const after = await pixels(host, r.done!.resultImageId);
    let changedInside = 0;
    for (let i = 0; i < W * H * 4; i++) {
      if (mask[i >> 2] === 0) expect(after[i]).toBe(before[i]);
      else if (after[i] !== before[i]) changedInside++;
    }
    expect(changedInside).toBeGreaterThan(100);
  });

  it('restores ×2 through the ControlNet pack on the shared backbone', async () => {
    const imageId = await openPattern(host, 36, 28);
    const r = await run(host, { tool: 'restore', imageId, scale: 2, steps: 4, seed: 1 });
    expect(r.failed).toBeUndefined();
    expect([r.done?.width, r.done?.height]).toEqual([72, 56]);
    expect(r.progress.some((p) => p.stage === 'denoising' && p.step?.i === p.step?.n)).toBe(true);
    const x1 = await run(host, { tool: 'restore', pack: PACKS.restore1, imageId, steps: 2 });
    expect([x1.done?.width, x1.done?.height]).toEqual([36, 28]);
    const wrong = await host.request('runTool', { tool: 'restore', pack: PACKS.restore1, imageId, scale: 2 });
    expect(!wrong.ok && wrong.error.message).toMatch(/upscales ×1, not ×2/);
  });

  it('edits with a free-text instruction; both guidance scales change the result', async () => {
    const imageId = await openPattern(host, 64, 48);
    const base = { tool: 'edit', imageId, prompt: 'make it look like winter', steps: 3, seed: 2 };
    const a = await run(host, { ...base, guidanceScale: 7.5, imageGuidanceScale: 1.5 });
    expect(a.failed).toBeUndefined();
    expect([a.done?.width, a.done?.height]).toEqual([64, 48]);
    expect(a.done?.notes.join('\n')).toMatch(/image guidance 1.5/);
    const pa = Buffer.from(await pixels(host, a.done!.resultImageId));
    const text = await run(host, { ...base, guidanceScale: 2, imageGuidanceScale: 1.5 });
    const img = await run(host, { ...base, guidanceScale: 7.5, imageGuidanceScale: 1 });
    expect(Buffer.from(await pixels(host, text.done!.resultImageId)).equals(pa)).toBe(false);
    expect(Buffer.from(await pixels(host, img.done!.resultImageId)).equals(pa)).toBe(false);
    const missing = await run(host, { tool: 'edit', imageId, steps: 2 });
    expect(missing.failed?.code).toBe('invalid-request');
    const bad = await host.request('runTool', { tool: 'edit', imageId, prompt: 'x', guidanceScale: 99 } as never);
    expect(!bad.ok && bad.error.code).toBe('invalid-request');
  });

  it('cancels between denoising steps without restarting the engine', async () => {
    const pid = host.pid;
    const imageId = await openPattern(host, 1024, 1024);
    let cancelled = false;
    const r = await run(host, { tool: 'edit', imageId, prompt: 'make it dark', steps: 50 }, (p) => {
      if (!cancelled && p.stage === 'denoising') {
        cancelled = true;
        void host.request('cancelJob', { jobId: p.jobId });
      }
    });
    expect(r.failed?.cancelled).toBe(true);
    expect(r.failed?.code).toBe('cancelled');
    const steps = r.progress.filter((p) => p.stage === 'denoising').length;
    expect(steps).toBeLessThan(50);
    expect(host.pid).toBe(pid);
  });

  it('a same-size tampered file fails the job and lists the pack as invalid, with the reason', async () => {
    const copy = path.join(tmp, 'tampered');
    await cp(userPacks, copy, { recursive: true });
    const data = path.join(copy, PACKS.backbone, 'unet', 'model.onnx_data');
    const bytes = await readFile(data);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0x01, bytes.length >> 1);
    await writeFile(data, bytes);
    await truncate(path.join(copy, PACKS.edit, 'text_encoder', 'model.onnx'), 64);
    const h = await startEngine(copy);
    try {
      const first = new Map((await packs(h)).map((p) => [p.name, p]));
      expect(first.get(PACKS.backbone)?.status).toBe('ok'); // sizes match; sha256 is checked on load
      expect(first.get(PACKS.edit)).toMatchObject({ status: 'invalid', problem: expect.stringMatching(/"text_encoder\/model.onnx" has 64 bytes.*truncated/) });
      const imageId = await openPattern(h, 32, 32);
      const r = await run(h, { tool: 'restore', pack: PACKS.restore, imageId, steps: 2 });
      expect(r.failed?.code).toBe('pack-invalid');
      expect(r.failed?.message).toMatch(/backbone pack "sd-tiny" cannot be used: "unet\/model.onnx_data" failed its checksum/);
      const after = new Map((await packs(h)).map((p) => [p.name, p]));
      expect(after.get(PACKS.backbone)).toMatchObject({ status: 'invalid', problem: expect.stringMatching(/"unet\/model.onnx_data" failed its checksum .* corrupt or was modified/) });
      expect(after.get(PACKS.restore)?.status).toBe('invalid');
      expect(after.get(PACKS.inpaint)?.status).toBe('ok');
      const refused = await h.request('runTool', { tool: 'restore', pack: PACKS.restore, imageId });
      expect(!refused.ok && refused.error.code).toBe('pack-invalid');
    } finally {
      await h.stop();
    }
  });
});
