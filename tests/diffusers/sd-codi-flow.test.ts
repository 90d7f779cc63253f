/**
 * The whole SD-class CoDi flow on tiny models, each step through its real entry point:
 * `python -m codi_torch.sd.tiny` (a tiny SD-config UNet exported to ONNX in the diffusers layout)
 * + the tiny pipeline's VAE, text encoder and tokenizer → `codi encode-dataset` on a small
 * dataset in the build-dataset format → `codi train --backbone … --method pe-codi --task inpaint
 * --steps 20` (PyTorch) → `codi import` of the export → `codi run` with 1, 2 and 4 steps, and the
 * exported backbone alone (zero features, μ = 0) generating what the plain backbone generates.
 * Skipped, with the reason, when no Python with torch is found.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { main } from '../../electron/cli/codi.ts';
import { runTrainCommand } from '../../training/cli/train.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import { generate, loadDiffusersPipeline } from '../../electron/engine/diffusers/pipeline.ts';
import { writeTinyPipeline } from '../fixtures-gen/diffusers-tiny.ts';
import { capture, testEnv } from './fixtures.ts';
import { torchPython } from './codi-fixtures.ts';

const TORCH_PKG = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'training', 'torch');
const S = 64;
let tmp: string;
let env: NodeJS.ProcessEnv;

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture(env);
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

async function rgb(file: string): Promise<Buffer> {
  return (await sharp(file).removeAlpha().raw().toBuffer()).subarray(0);
}

/** An inpaint dataset in the build-dataset format: smooth colour fields with a rectangular hole each. */
async function inpaintDataset(dir: string, n: number): Promise<void> {
  await mkdir(path.join(dir, 'img'), { recursive: true });
  await writeFile(path.join(dir, 'dataset.json'), JSON.stringify({ task: 'inpaint', size: [S, S], sources: [] }));
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = Buffer.alloc(S * S * 3);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) t[(y * S + x) * 3 + c] = 128 + 100 * Math.sin((x * (c + 1) + y * (i + 1)) * 0.05 + i);
    await sharp(t, { raw: { width: S, height: S, channels: 3 } }).png().toFile(path.join(dir, 'img', `t${i}.png`));
    const m = Buffer.alloc(S * S);
    for (let y = 8 + 2 * i; y < 40; y++) for (let x = 12; x < 44; x++) m[y * S + x] = 255;
    await sharp(m, { raw: { width: S, height: S, channels: 1 } }).png().toFile(path.join(dir, 'img', `m${i}.png`));
    lines.push(JSON.stringify({ split: 'train', target: `img/t${i}.png`, mask: `img/m${i}.png` }));
  }
  await writeFile(path.join(dir, 'items.jsonl'), lines.join('\n') + '\n');
}

const runIf = torchPython.python ? describe : describe.skip;
if (!torchPython.python) console.warn(`tests/diffusers/sd-codi-flow.test.ts skipped: ${torchPython.reason}`);

runIf('SD-class CoDi flow: tiny SD → encode-dataset → codi train → import → codi run', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-sd-flow-'));
    env = testEnv(tmp, path.join(tmp, 'user-packs'));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('runs end to end', async () => {
    // 1. a tiny SD-config UNet (22a's generator) with the tiny pipeline's other parts beside it
    const sd = path.join(tmp, 'sd');
    const gen = spawnSync(torchPython.python!, ['-m', 'codi_torch.sd.tiny', sd, '--format', 'onnx', '--seed', '0'], { cwd: TORCH_PKG, encoding: 'utf8', timeout: 600_000 });
    expect(gen.status, gen.stderr.slice(-2000)).toBe(0);
    const parts = path.join(tmp, 'parts');
    await writeTinyPipeline(parts, { unet: { inChannels: 4, timestep: 'float32', residuals: false } });
    for (const p of ['vae_encoder', 'vae_decoder', 'text_encoder', 'tokenizer', 'model_index.json']) await cp(path.join(parts, p), path.join(sd, p), { recursive: true });

    // 2. the dataset, encoded with the pack's own VAE and text encoder
    const data = path.join(tmp, 'data');
    await inpaintDataset(data, 6);
    const enc = path.join(tmp, 'encoded');
    const e = await cli(['encode-dataset', '--pack', sd, '--data', data, '--out', enc]);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(await readFile(path.join(enc, 'sd-dataset.json'), 'utf8'))).toMatchObject({ task: 'inpaint', count: 6, latent: [4, 8, 8], condition: [5, 8, 8], textRows: 1 });

    // 3. 20 PE-CoDi steps with PyTorch, exported
    const out = path.join(tmp, 'export');
    const log: string[] = [];
    const code = await runTrainCommand(['--backbone', sd, '--method', 'pe-codi', '--task', 'inpaint', '--data', enc, '--out', out, '--steps', '20', '--batch', '2', '--checkpoint-every', '10'], {
      log: (l) => log.push(l),
      error: (l) => log.push(l),
    });
    expect(code, log.join('\n')).toBe(0);

    // 4. import: the backbone pack and the adapter pinned to it
    const imp = await cli(['import', out, '--name', 'flow-inpaint']);
    expect(imp.code, imp.err).toBe(0);
    expect(imp.out).toMatch(/imported flow-inpaint \(CoDi inpaint adapter on flow-inpaint-backbone/);

    // 5. codi run inpaint with 1, 2 and 4 steps: right size, outside the mask kept, step counts differ
    const W = 72;
    const H = 56;
    const photo = Buffer.alloc(W * H * 3);
    for (let i = 0; i < photo.length; i++) photo[i] = (i * 7) % 233;
    await sharp(photo, { raw: { width: W, height: H, channels: 3 } }).png().toFile(path.join(tmp, 'in.png'));
    const mask = Buffer.alloc(W * H);
    for (let y = 10; y < 30; y++) for (let x = 20; x < 50; x++) mask[y * W + x] = 255;
    await sharp(mask, { raw: { width: W, height: H, channels: 1 } }).png().toFile(path.join(tmp, 'mask.png'));
    const input = await rgb(path.join(tmp, 'in.png'));
    const outs: Buffer[] = [];
    for (const steps of [1, 2, 4]) {
      const file = path.join(tmp, `out-${steps}.png`);
      const r = await cli(['run', 'flow-inpaint', path.join(tmp, 'in.png'), '--mask', path.join(tmp, 'mask.png'), '-o', file, '--steps', String(steps)]);
      expect(r.code, r.err).toBe(0);
      const meta = await sharp(file).metadata();
      expect([meta.width, meta.height]).toEqual([W, H]);
      const px = await rgb(file);
      for (let i = 0; i < W * H; i++) if (mask[i] === 0) for (let k = 0; k < 3; k++) expect(px[i * 3 + k]).toBe(input[i * 3 + k]);
      outs.push(px);
    }
    expect(outs[0]!.equals(outs[1]!)).toBe(false);
    expect(outs[1]!.equals(outs[2]!)).toBe(false);

    // 6. the exported backbone alone (zero features, μ = 0) is the plain backbone it was trained on
    const plain = await cli(['import', sd, '--name', 'flow-plain']);
    expect(plain.code, plain.err).toBe(0);
    const runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });
    const req = { prompt: 'a photo of a cat', width: 64, height: 64, steps: 2, seed: 4, guidanceScale: 3 };
    const a = await generate(await loadDiffusersPipeline(path.join(tmp, 'user-packs', 'flow-plain'), runtime), req);
    const b = await generate(await loadDiffusersPipeline(path.join(tmp, 'user-packs', 'flow-inpaint-backbone'), runtime), req);
    expect(a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0)).toBeLessThan(1e-3);
  }, 1_800_000);
});
