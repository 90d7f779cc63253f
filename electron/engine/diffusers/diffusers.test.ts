import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, cp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyControlNet, writeTinyPipeline } from '../../../tests/fixtures-gen/diffusers-tiny.ts';
import { OrtRuntime } from '../ort.ts';
import { importDiffusersPack, verifyDiffusersPack } from './import.ts';
import { edit, generate, inpaint, loadControlNet, loadDiffusersPipeline, restore, vaeDecode, vaeEncode } from './pipeline.ts';
import type { DiffusersPipelineModel, ControlNetModel } from './pipeline.ts';
import { encodeValueInfo, encodeEntry, lenField, strField, varField } from './onnx-wire.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';

let tmp: string;
let packs: string;
const runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });

function image(h: number, w: number, phase = 0): F32Tensor {
  const d = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[(c * h + y) * w + x] = Math.sin((x + 2 * y) * 0.2 + c + phase) * 0.8;
  return { data: d, shape: [1, 3, h, w] };
}
const finite = (t: F32Tensor) => t.data.every((v) => Number.isFinite(v));
const maxDiff = (a: F32Tensor, b: F32Tensor) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'codi-diffusers-'));
  packs = join(tmp, 'packs');
  await writeTinyPipeline(join(tmp, 'src', 'base'), {
    unet: { inChannels: 4, timestep: 'int64', residuals: true },
    tinyDecoder: true,
    scheduler: { prediction_type: 'v_prediction', timestep_spacing: 'trailing' },
  });
  await writeTinyPipeline(join(tmp, 'src', 'inpaint'), { unet: { inChannels: 9, timestep: 'float32', residuals: false }, externalData: false, seed: 11 });
  await writeTinyPipeline(join(tmp, 'src', 'ip2p'), { unet: { inChannels: 8, timestep: 'float32', residuals: false }, seed: 21, scheduler: { _class_name: 'EulerAncestralDiscreteScheduler' } });
  await writeTinyControlNet(join(tmp, 'src', 'cn'), { timestep: 'int64' });
  await importDiffusersPack(join(tmp, 'src', 'base'), { into: packs, name: 'sd-tiny' });
  await importDiffusersPack(join(tmp, 'src', 'inpaint'), { into: packs, name: 'sd-tiny-inpaint' });
  await importDiffusersPack(join(tmp, 'src', 'ip2p'), { into: packs, name: 'sd-tiny-ip2p' });
  await importDiffusersPack(join(tmp, 'src', 'cn'), { into: packs, name: 'cn-tiny-restore', backboneDir: join(packs, 'sd-tiny') });
});

afterAll(async () => {
  await runtime.releaseAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('import and verify', () => {
  it('writes a manifest with hashes, roles and IO signatures, and the sidecar', async () => {
    const { manifest, sidecar } = await verifyDiffusersPack(join(packs, 'sd-tiny'));
    expect(manifest.task).toBe('backbone');
    expect(manifest.prediction).toBe('v');
    expect(manifest.latent).toEqual({ kind: 'autoencoder', factor: 8, channels: 4, scale: 0.18215 });
    const unet = manifest.files.find((f) => f.path === 'unet/model.onnx')!;
    expect(unet.role).toBe('backbone');
    expect(unet.inputs!.find((i) => i.name === 'timestep')!.dtype).toBe('int64');
    expect(manifest.files.some((f) => f.path === 'unet/model.onnx_data')).toBe(true);
    expect(sidecar.unet!.externalData).toEqual(['unet/model.onnx_data']);
    expect(sidecar.unet!.residuals.down).toEqual(['down_block_additional_residuals_0', 'down_block_additional_residuals_1']);
    expect(sidecar.scheduler!.spacing).toBe('trailing');
    expect(manifest.files.find((f) => f.path === 'text_encoder/model.onnx')!.inputs![0]).toEqual({ name: 'input_ids', dtype: 'int32', shape: ['batch', 'sequence'] });

    const inp = await verifyDiffusersPack(join(packs, 'sd-tiny-inpaint'));
    expect(inp.manifest.task).toBe('inpaint');
    expect(inp.manifest.conditionChannels).toBe(5);
    const cn = await verifyDiffusersPack(join(packs, 'cn-tiny-restore'));
    expect(cn.manifest.backbone).toEqual({ pack: 'sd-tiny', sha256: unet.sha256 });
    expect(cn.manifest.files.find((f) => f.path === 'controlnet/model.onnx')!.role).toBe('adapter');
    const ip = await verifyDiffusersPack(join(packs, 'sd-tiny-ip2p'));
    expect(ip.manifest.task).toBe('edit');
    expect(ip.sidecar.scheduler!.sampler).toBe('ddim');
  });

  it('refuses a pack whose external data was modified', async () => {
    const copy = join(tmp, 'tampered', 'sd-tiny');
    await cp(join(packs, 'sd-tiny'), copy, { recursive: true });
    const f = join(copy, 'unet', 'model.onnx_data');
    const b = await readFile(f);
    b[100] = b[100]! ^ 0xff;
    await writeFile(f, b);
    await expect(verifyDiffusersPack(copy)).rejects.toThrow(/checksum/);
    await expect(loadDiffusersPipeline(copy, runtime)).rejects.toThrow(/checksum/);
  });

  it('refuses external data that escapes the folder', async () => {
    const src = join(tmp, 'escape', 'evil');
    await cp(join(tmp, 'src', 'base'), src, { recursive: true });
    await writeFile(join(tmp, 'escape', 'secret.bin'), new Uint8Array(256));
    const tensor = [varField(1, 64), varField(2, 1), strField(8, 'w'), lenField(13, encodeEntry('location', '../../secret.bin')), varField(14, 1)];
    const graph = [lenField(5, concat(tensor)), lenField(11, encodeValueInfo({ name: 'sample', elemType: 1, shape: [1] })), lenField(12, encodeValueInfo({ name: 'out_sample', elemType: 1, shape: [1] }))];
    await writeFile(join(src, 'unet', 'model.onnx'), concat([varField(1, 8), lenField(7, concat(graph))]));
    await expect(importDiffusersPack(src)).rejects.toThrow(/outside the pack/);
  });

  it('refuses a folder whose model_index lists a missing component', async () => {
    const src = join(tmp, 'missing', 'pack');
    await cp(join(tmp, 'src', 'inpaint'), src, { recursive: true });
    await rm(join(src, 'vae_encoder'), { recursive: true });
    await expect(importDiffusersPack(src)).rejects.toThrow(/vae_encoder/);
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

describe('pipelines through the tiny packs', () => {
  let base: DiffusersPipelineModel;
  let inp: DiffusersPipelineModel;
  let ip2p: DiffusersPipelineModel;
  let cn: ControlNetModel;
  beforeAll(async () => {
    base = await loadDiffusersPipeline(join(packs, 'sd-tiny'), runtime);
    inp = await loadDiffusersPipeline(join(packs, 'sd-tiny-inpaint'), runtime);
    ip2p = await loadDiffusersPipeline(join(packs, 'sd-tiny-ip2p'), runtime);
    cn = await loadControlNet(join(packs, 'cn-tiny-restore'), runtime, base);
  });

  it('text-to-image: shape, finite, deterministic, guidance changes the output', async () => {
    const req = { prompt: 'a photo of a cat', width: 64, height: 64, steps: 3, seed: 5, guidanceScale: 7.5 };
    const a = await generate(base, req);
    const b = await generate(base, req);
    expect(a.shape).toEqual([1, 3, 64, 64]);
    expect(finite(a)).toBe(true);
    expect(maxDiff(a, b)).toBe(0);
    const c = await generate(base, { ...req, guidanceScale: 2 });
    expect(maxDiff(a, c)).toBeGreaterThan(1e-4);
    const d = await generate(base, { ...req, seed: 6 });
    expect(maxDiff(a, d)).toBeGreaterThan(1e-4);
  });

  it('inpaint (9-channel UNet) keeps pixels outside the mask and fills inside', async () => {
    const img = image(64, 80);
    const mask: F32Tensor = { data: new Float32Array(64 * 80).map((_, i) => (Math.floor(i / 80) >= 16 && Math.floor(i / 80) < 48 ? 1 : 0)), shape: [1, 1, 64, 80] };
    const progress: number[] = [];
    const out = await inpaint(inp, img, mask, { prompt: 'fill the hole', steps: 3, seed: 1, guidanceScale: 5, onProgress: (p) => p.step !== undefined && progress.push(p.step) });
    expect(out.shape).toEqual([1, 3, 64, 80]);
    expect(finite(out)).toBe(true);
    expect(out.data[0]).toBe(img.data[0]);
    const inside = (32 * 80 + 40);
    expect(Math.abs(out.data[inside]! - img.data[inside]!)).toBeGreaterThan(0);
    expect(progress).toEqual([0, 1, 2, 3]);
    const again = await inpaint(inp, img, mask, { prompt: 'fill the hole', steps: 3, seed: 1, guidanceScale: 1.5 });
    expect(maxDiff(out, again)).toBeGreaterThan(1e-4);
  });

  it('inpaint with latent masking on the plain backbone', async () => {
    const img = image(64, 64);
    const mask: F32Tensor = { data: new Float32Array(64 * 64).map((_, i) => (i % 64 < 32 ? 1 : 0)), shape: [1, 1, 64, 64] };
    const out = await inpaint(base, img, mask, { prompt: 'fill', steps: 2, seed: 3 });
    expect(finite(out)).toBe(true);
    expect(out.data[63]).toBe(img.data[63]);
  });

  it('restore: img2img steered by the ControlNet adapter on the shared backbone', async () => {
    const low = image(32, 32);
    const a = await restore(base, cn, low, 2, { prompt: '', steps: 4, strength: 0.5, seed: 9, guidanceScale: 1 });
    expect(a.shape).toEqual([1, 3, 64, 64]);
    expect(finite(a)).toBe(true);
    const b = await restore(base, cn, low, 2, { prompt: '', steps: 4, strength: 0.5, seed: 9, guidanceScale: 1 });
    expect(maxDiff(a, b)).toBe(0);
    const weak = await restore(base, cn, low, 2, { prompt: '', steps: 4, strength: 0.5, seed: 9, guidanceScale: 1, controlScale: 0 });
    expect(maxDiff(a, weak)).toBeGreaterThan(1e-4);
  });

  it('edit: InstructPix2Pix dual guidance responds to both scales', async () => {
    const src = image(64, 64, 1);
    const o = { steps: 3, seed: 2 };
    const a = await edit(ip2p, src, 'make it dark', { ...o, guidanceScale: 7.5, imageGuidanceScale: 1.5 });
    expect(a.shape).toEqual([1, 3, 64, 64]);
    expect(finite(a)).toBe(true);
    const text = await edit(ip2p, src, 'make it dark', { ...o, guidanceScale: 3, imageGuidanceScale: 1.5 });
    const img = await edit(ip2p, src, 'make it dark', { ...o, guidanceScale: 7.5, imageGuidanceScale: 1 });
    expect(maxDiff(a, text)).toBeGreaterThan(1e-4);
    expect(maxDiff(a, img)).toBeGreaterThan(1e-4);
    expect(maxDiff(a, await edit(ip2p, src, 'make it dark', { ...o, guidanceScale: 7.5, imageGuidanceScale: 1.5 }))).toBe(0);
  });

  it('tiled VAE matches the untiled shapes and stays close inside tiles; previews and cancellation', async () => {
    const img = image(64, 96);
    const whole = await vaeEncode(base, img);
    const tiled = await vaeEncode(base, img, { tiling: { tile: 32, overlap: 16 } });
    expect(tiled.shape).toEqual(whole.shape);
    expect(finite(tiled)).toBe(true);
    const dec = await vaeDecode(base, whole, { tiling: { tile: 32, overlap: 16 } });
    expect(dec.shape).toEqual([1, 3, 64, 96]);
    const previews: number[] = [];
    await generate(base, { prompt: 'a cat', width: 64, height: 64, steps: 2, seed: 1, onPreview: (p, step) => {
      expect(p.shape).toEqual([1, 3, 64, 64]);
      previews.push(step);
    } });
    expect(previews).toEqual([0, 1]);
    const signal = { aborted: true };
    await expect(generate(base, { prompt: 'x', width: 64, height: 64, steps: 2, seed: 1, signal })).rejects.toThrow(/abort/i);
  });
});

describe('codi import (runImportCommand)', () => {
  it('imports into the packs folder, verifies, and reports bad usage with exit code 2', async () => {
    const { runImportCommand } = await import('./cli.ts');
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
    const dest = join(tmp, 'cli-packs');
    expect(await runImportCommand([join(tmp, 'src', 'inpaint'), '--name', 'cli-inpaint', '--guidance', '6'], { packsDir: dest, io })).toBe(0);
    expect(lines.join('\n')).toMatch(/imported cli-inpaint \(inpaint/);
    const v = await verifyDiffusersPack(join(dest, 'cli-inpaint'));
    expect(v.sidecar.guidance.text).toBe(6);
    expect(await runImportCommand(['--task', 'nope', 'x'], { io })).toBe(2);
    expect(await runImportCommand([join(tmp, 'src', 'inpaint'), '--name', 'cli-inpaint'], { packsDir: dest, io })).toBe(1);
  });
});
