/**
 * `codi encode-dataset` on tiny diffusers packs: a dataset in the `codi build-dataset` format
 * becomes the encoded "codi-sd-dataset/1" set (latents × scaling factor, the task's latent-space
 * condition, text embeddings), byte for byte what the engine's own encoders give; bad input and
 * cancel leave nothing behind.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../electron/cli/codi.ts';
import { runEncodeDatasetCommand } from '../../electron/engine/diffusers/cli.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import { encodePrompts, loadDiffusersPipeline, vaeEncode } from '../../electron/engine/diffusers/pipeline.ts';
import type { DiffusersPipelineModel } from '../../electron/engine/diffusers/pipeline.ts';
import { codiCondition } from '../../electron/engine/diffusers/codi-pipeline.ts';
import { u8HwcToNchw, u8MaskToNchw } from '../../core/tensor/layout.ts';
import { writeTinyPipeline } from '../fixtures-gen/diffusers-tiny.ts';
import { capture, testEnv } from './fixtures.ts';

const S = 64;
let tmp: string;
let env: NodeJS.ProcessEnv;
let model: DiffusersPipelineModel;
const runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });

function pattern(w: number, h: number, seed: number): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let i = 0; i < b.length; i++) b[i] = (i * (31 + seed) + seed * 17) % 251;
  return b;
}
const png = (file: string, raw: Buffer, w: number, h: number, channels: 1 | 3) => sharp(raw, { raw: { width: w, height: h, channels } }).png().toFile(file);

/** A dataset folder in the build-dataset format: dataset.json, items.jsonl and PNGs. */
async function dataset(name: string, task: 'inpaint' | 'restore' | 'edit', size = S, n = 3): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(path.join(dir, 'img'), { recursive: true });
  await writeFile(path.join(dir, 'dataset.json'), JSON.stringify({ task, size: [size, size], sources: [] }));
  const lines: string[] = [];
  const texts = ['make it dark', 'turn the sky blue', 'make it look like a painting'];
  for (let i = 0; i < n; i++) {
    await png(path.join(dir, 'img', `t${i}.png`), pattern(size, size, i), size, size, 3);
    const item: Record<string, unknown> = { split: i === n - 1 ? 'val' : 'train', target: `img/t${i}.png` };
    if (task === 'inpaint') {
      const m = Buffer.alloc(size * size);
      for (let y = 8 + i; y < 40; y++) for (let x = 16; x < 48 - i; x++) m[y * size + x] = 255;
      await png(path.join(dir, 'img', `m${i}.png`), m, size, size, 1);
      item.mask = `img/m${i}.png`;
    } else {
      const s = task === 'restore' ? 2 : 1;
      await png(path.join(dir, 'img', `i${i}.png`), pattern(size / s, size / s, 10 + i), size / s, size / s, 3);
      item.input = `img/i${i}.png`;
      if (s > 1) item.scale = s;
      if (task === 'edit') item.text = texts[i % texts.length];
    }
    lines.push(JSON.stringify(item));
  }
  await writeFile(path.join(dir, 'items.jsonl'), lines.join('\n') + '\n');
  return dir;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture(env);
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

const f32 = async (file: string) => {
  const b = await readFile(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const rgbOf = async (file: string) => {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return u8HwcToNchw(new Uint8Array(data), info.height, info.width, 3);
};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-encode-'));
  env = testEnv(tmp, path.join(tmp, 'user-packs'));
  await writeTinyPipeline(path.join(tmp, 'src', 'sd'), { unet: { inChannels: 4, timestep: 'float32', residuals: false } });
  const io = capture(env);
  if ((await main(['import', path.join(tmp, 'src', 'sd'), '--name', 'sd-enc'], io)) !== 0) throw new Error(io.stderr.join('\n'));
  model = await loadDiffusersPipeline(path.join(tmp, 'user-packs', 'sd-enc'), runtime);
}, 120_000);
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('codi encode-dataset', () => {
  it('inpaint: latents ×scaling factor, masked-image latent + latent-size mask, one empty-prompt text row — as the engine encodes them', async () => {
    const data = await dataset('inpaint-data', 'inpaint');
    const out = path.join(tmp, 'enc-inpaint');
    const r = await cli(['encode-dataset', '--pack', 'sd-enc', '--data', data, '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/encoded 2\/2/);
    const info = JSON.parse(await readFile(path.join(out, 'sd-dataset.json'), 'utf8')) as Record<string, unknown>;
    expect(info).toMatchObject({ format: 'codi-sd-dataset/1', task: 'inpaint', count: 2, latent: [4, 8, 8], condition: [5, 8, 8], text: [77, 16], textRows: 1, scalingFactor: 0.18215, files: { target: 'target.f32', condition: 'condition.f32', text: 'text.f32' } });
    const target = await f32(path.join(out, 'target.f32'));
    const cond = await f32(path.join(out, 'condition.f32'));
    const text = await f32(path.join(out, 'text.f32'));
    expect([target.length, cond.length, text.length]).toEqual([2 * 4 * 64, 2 * 5 * 64, 77 * 16]);
    // item 1, recomputed in process with the pack's encoders
    const t1 = await rgbOf(path.join(data, 'img', 't1.png'));
    const { data: m, info: mi } = await sharp(path.join(data, 'img', 'm1.png')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    const mask = u8MaskToNchw(new Uint8Array(m), mi.height, mi.width, 1);
    expect(Array.from(target.subarray(256, 512))).toEqual(Array.from((await vaeEncode(model, t1)).data));
    const c1 = await codiCondition(model, { task: 'inpaint', image: t1, mask });
    expect(Array.from(cond.subarray(320, 640))).toEqual(Array.from(c1.data));
    // the mask channel: 1 = hole, averaged to latent size (latent pixel (2, 3) lies inside the hole)
    expect(cond[320 + 4 * 64 + 2 * 8 + 3]).toBe(1);
    expect(cond[320 + 4 * 64]).toBe(0);
    expect(Array.from(text)).toEqual(Array.from((await encodePrompts(model, ['']))[0]!.data));
  }, 120_000);

  it('edit: one text row per item (the instruction); restore: the ×2 input upscaled before encoding; a raw diffusers folder works as --pack', async () => {
    const edit = path.join(tmp, 'enc-edit');
    expect((await cli(['encode-dataset', '--pack', 'sd-enc', '--data', await dataset('edit-data', 'edit'), '--out', edit, '--split', 'all'])).code).toBe(0);
    const info = JSON.parse(await readFile(path.join(edit, 'sd-dataset.json'), 'utf8')) as { count: number; textRows: number };
    expect([info.count, info.textRows]).toEqual([3, 3]);
    const text = await f32(path.join(edit, 'text.f32'));
    const row = 77 * 16;
    expect(Array.from(text.subarray(0, row))).toEqual(Array.from((await encodePrompts(model, ['make it dark']))[0]!.data));
    expect(Array.from(text.subarray(0, row))).not.toEqual(Array.from(text.subarray(row, 2 * row)));

    const restoreData = await dataset('restore-data', 'restore');
    const restore = path.join(tmp, 'enc-restore');
    const r = await cli(['encode-dataset', '--pack', path.join(tmp, 'src', 'sd'), '--data', restoreData, '--out', restore]);
    expect(r.code, r.err).toBe(0);
    const cond = await f32(path.join(restore, 'condition.f32'));
    const c0 = await codiCondition(model, { task: 'restore', lowRes: await rgbOf(path.join(restoreData, 'img', 'i0.png')), height: S, width: S });
    expect(Array.from(cond.subarray(0, 256))).toEqual(Array.from(c0.data));
  }, 120_000);

  it('refuses an existing --out, a size off the UNet grid and a missing mask, and leaves nothing behind; cancel leaves nothing either', async () => {
    const data = await dataset('inpaint-data2', 'inpaint');
    const exists = await cli(['encode-dataset', '--pack', 'sd-enc', '--data', data, '--out', data]);
    expect(exists.code).toBe(1);
    expect(exists.err).toMatch(/already exists; choose a new folder/);
    const odd = await cli(['encode-dataset', '--pack', 'sd-enc', '--data', await dataset('odd-data', 'inpaint', 40), '--out', path.join(tmp, 'enc-odd')]);
    expect(odd.err).toMatch(/size 40×40 is not a multiple of 64 px/);
    await rm(path.join(data, 'img', 'm1.png'));
    const missing = await cli(['encode-dataset', '--pack', 'sd-enc', '--data', data, '--out', path.join(tmp, 'enc-missing')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/img\/t1\.png: .*m1\.png/);
    const ctrl = new AbortController();
    const io = capture(env);
    const cancelled = runEncodeDatasetCommand(['--pack', 'sd-enc', '--data', await dataset('cancel-data', 'edit', S, 4), '--out', path.join(tmp, 'enc-cancel')], {
      packsDir: path.join(tmp, 'user-packs'),
      io: { ...io, err: (l) => (io.err(l), /encoded 1\//.test(l) && ctrl.abort()) },
      runtime,
      signal: ctrl.signal,
    });
    expect(await cancelled).toBe(130);
    expect(io.stderr.join('\n')).toMatch(/cancelled; nothing was written/);
    const left = (await readdir(tmp)).filter((n) => /enc-(odd|missing|cancel)|encoding-/.test(n));
    expect(left).toEqual([]);
  }, 120_000);
});
