/**
 * The model rows on real (tiny, randomly initialised) packs written by the project's exporter and
 * loaded by the engine's registry: checks the wiring (condition, sampler choice, decode), not quality.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetConfig } from '../../core/nn/config.ts';
import { defaultNetConfig } from '../../core/nn/config.ts';
import { initParams } from '../../core/nn/params.ts';
import { adapterParamSpecs, backboneParamSpecs } from '../../core/nn/trace.ts';
import { exportOnnx } from '../../training/export/export-onnx.ts';
import { writePack } from '../../training/export/pack.ts';
import type { PackManifestFields } from '../../training/export/pack.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { editWithPack, findPack, openPacks, packInstructions, restoreWithPack } from './pack-rows.ts';
import type { PackSource } from './pack-rows.ts';

const tiny: NetConfig = { ...defaultNetConfig, baseChannels: 8, groups: 4, timeDim: 16, embDim: 32, condHidden: 8 };
const base = (over: Partial<PackManifestFields>): PackManifestFields => ({
  name: 'x',
  version: '0.0.1',
  title: 'test',
  task: 'restore',
  method: 'codi',
  prediction: 'v',
  schedule: { kind: 'scaled-linear', trainSteps: 1000, betaStart: 0.00085, betaEnd: 0.012 },
  sampler: { kind: 'codi', steps: 4, maxSteps: 8, distillSteps: 50 },
  latent: { kind: 'pixel-unshuffle', factor: 4 },
  conditionChannels: 48,
  textEmbeddingDim: 0,
  upscale: 4,
  tile: { size: 256, overlap: 32 },
  ...over,
});

let root: string;
let packs: PackSource;

async function denoiserPack(name: string, fields: PackManifestFields, textDim: number, extra?: { path: string; text: string }): Promise<void> {
  const dir = join(root, name);
  const backbone = initParams(backboneParamSpecs(tiny), 1);
  const adapter = initParams(adapterParamSpecs(tiny, { condChannels: 48, textDim }), 2);
  // a fresh adapter is gated off (μ = 0, zero text projection); open it so condition and text matter
  const open = (name: string, f: (i: number) => number): void => {
    const p = adapter[name];
    if (p) p.data = p.data.map((_, i) => f(i));
  };
  open('mu', () => 0.5);
  open('text_proj.w', (i) => Math.sin(i));
  const files: { path: string; role: 'denoiser' | 'instruction-table' }[] = (await exportOnnx(dir, tiny, { backbone, adapter }, ['denoiser'])).map((f) => ({ path: f.path, role: 'denoiser' as const }));
  if (extra) {
    await writeFile(join(dir, extra.path), extra.text);
    files.push({ path: extra.path, role: 'instruction-table' });
  }
  await writePack(dir, { manifest: { ...fields, name }, files, modelCard: '# test\n' });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'codi-eval-packs-'));
  await denoiserPack('restore-x4-codi', base({}), 0);
  const table = JSON.stringify({ 'make it dark': Array.from({ length: 8 }, (_, i) => i / 8), 'black and white': Array.from({ length: 8 }, (_, i) => -i / 8) });
  await denoiserPack('edit-codi', base({ task: 'edit', upscale: 1, textEmbeddingDim: 8 }), 8, { path: 'instructions.json', text: table });
  packs = await openPacks(root, 1);
}, 60_000);

afterAll(async () => {
  await packs?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const lrImage = (w: number, h: number): PlanarImage => ({ width: w, height: h, channels: 3, data: new Float32Array(3 * w * h).map((_, i) => (i % 13) / 13) });

describe('pack rows', () => {
  it('finds packs by task, method and scale, and says why when none fits', () => {
    const found = findPack(packs.records, 'restore', 'codi', 4);
    expect(typeof found === 'string' ? found : found.name).toBe('restore-x4-codi');
    expect(findPack(packs.records, 'restore', 'teacher', 4)).toBe('no restore ×4 pack with method "teacher" installed');
    expect(findPack(packs.records, 'restore', 'codi', 2)).toMatch(/no restore ×2 pack/);
  });

  it('restores with the pack sampler and with a teacher-style DDIM, deterministically per seed', async () => {
    const model = await packs.registry.load('restore-x4-codi');
    const lr = lrImage(16, 16);
    const a = await restoreWithPack(model, lr, 'pack', 2, 7);
    expect([a.width, a.height]).toEqual([64, 64]);
    for (const v of a.data) expect(v >= 0 && v <= 1).toBe(true);
    const again = await restoreWithPack(model, lr, 'pack', 2, 7);
    expect(again.data).toEqual(a.data);
    const otherSeed = await restoreWithPack(model, lr, 'pack', 2, 8);
    expect(otherSeed.data).not.toEqual(a.data);
    const ddim = await restoreWithPack(model, lr, 'ddim', 3, 7);
    expect([ddim.width, ddim.height]).toEqual([64, 64]);
    await expect(restoreWithPack(model, lrImage(10, 10), 'pack', 1, 0)).rejects.toThrow(/multiple of 16/);
  }, 60_000);

  it('edits with the instruction embedding and refuses unknown instructions', async () => {
    const model = await packs.registry.load('edit-codi');
    expect(packInstructions(model).sort()).toEqual(['black and white', 'make it dark']);
    const src = lrImage(32, 32);
    const dark = await editWithPack(model, src, 'Make it dark.', 1, 1);
    const bw = await editWithPack(model, src, 'black and white', 1, 1);
    expect([dark.width, dark.height]).toEqual([32, 32]);
    expect(dark.data).not.toEqual(bw.data);
    await expect(editWithPack(model, src, 'make it purple', 1, 1)).rejects.toThrow(/does not know/);
  }, 60_000);
});
