import { describe, it, expect, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetConfig } from '../../core/nn/config.ts';
import { defaultNetConfig } from '../../core/nn/config.ts';
import { initParams } from '../../core/nn/params.ts';
import { adapterParamSpecs, backboneParamSpecs } from '../../core/nn/trace.ts';
import { parseManifest } from '../../core/packs/manifest.ts';
import { exportOnnx } from './export-onnx.ts';
import { writePack } from './pack.ts';
import type { PackManifestFields } from './pack.ts';

const tiny: NetConfig = { ...defaultNetConfig, baseChannels: 8, groups: 4, timeDim: 16, embDim: 32, condHidden: 8 };
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const fields = (over: Partial<PackManifestFields> = {}): PackManifestFields => ({
  name: 'restore-x4-test',
  version: '0.0.1',
  title: 'Test restore ×4',
  task: 'restore',
  method: 'pe-codi',
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

async function exportedDir() {
  const dir = await mkdtemp(join(tmpdir(), 'codi-pack-'));
  dirs.push(dir);
  const backbone = initParams(backboneParamSpecs(tiny), 1);
  const adapter = initParams(adapterParamSpecs(tiny, { condChannels: 48, textDim: 0 }), 2);
  const files = await exportOnnx(dir, tiny, { backbone, adapter }, ['adapter', 'denoiser']);
  return { dir, files };
}

describe('writePack', () => {
  it('writes a manifest that validates, with matching sha256 and sizes and read-back IO', async () => {
    const { dir, files } = await exportedDir();
    await writePack(dir, { manifest: fields(), files: files.map((f) => ({ path: f.path, role: f.role })), modelCard: '# Test\n' });
    const manifest = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f) => f.path)).toEqual(['adapter.onnx', 'denoiser.onnx']);
    for (const f of manifest.files) {
      const bytes = await readFile(join(dir, f.path));
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(f.bytes).toBe(bytes.byteLength);
    }
    const adapter = manifest.files[0]!;
    expect(adapter.inputs).toEqual([
      { name: 'z', dtype: 'float32', shape: ['batch', 48, 'height', 'width'] },
      { name: 't', dtype: 'float32', shape: ['batch'] },
      { name: 'cond', dtype: 'float32', shape: ['batch', 48, 'height', 'width'] },
    ]);
    expect(adapter.outputs?.map((o) => o.name)).toEqual(['feat_0', 'feat_1', 'feat_2', 'mu']);
    expect(await readFile(join(dir, manifest.modelCard), 'utf8')).toBe('# Test\n');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses an invalid manifest or a condition width the graphs do not take, writing nothing', async () => {
    const { dir, files } = await exportedDir();
    const list = files.map((f) => ({ path: f.path, role: f.role }));
    await expect(writePack(dir, { manifest: fields({ name: 'Bad Name' }), files: list, modelCard: '' })).rejects.toThrow(/name/);
    await expect(writePack(dir, { manifest: fields({ conditionChannels: 64 }), files: list, modelCard: '' })).rejects.toThrow(/cond/);
    await expect(writePack(dir, { manifest: fields({ textEmbeddingDim: 8 }), files: list, modelCard: '' })).rejects.toThrow(/text/);
    expect((await readdir(dir)).sort()).toEqual(['adapter.onnx', 'denoiser.onnx']);
  });
});
