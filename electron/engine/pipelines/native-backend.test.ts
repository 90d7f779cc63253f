/**
 * The restore tool's finishing step with a scripted session: a pack that names an unsharp mask
 * (manifest `sharpen`) gets exactly that mask over the output it would give without one, and the
 * job says so; a pack without one is left as the model made it.
 */
import { describe, expect, it } from 'vitest';
import type { PackManifest } from '../../../core/packs/manifest.ts';
import { unsharpInPlace } from '../../../core/image/unsharp.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import type { OrtTensorIn } from '../ort.ts';
import type { PackModel } from '../packs/registry.ts';
import { scriptedSession } from './fixtures/scripted-session.ts';
import { nativeBackend } from './native-backend.ts';
import type { NativePack, PipelineInput } from './types.ts';

const base = {
  name: 'scripted-restore',
  version: '1',
  task: 'restore',
  prediction: 'v',
  schedule: { kind: 'scaled-linear', trainSteps: 1000 },
  sampler: { kind: 'codi', steps: 1, maxSteps: 4, temperature: 0 },
  latent: { kind: 'pixel-unshuffle', factor: 4 },
  tile: { size: 256, overlap: 32 },
  conditionChannels: 48,
  textEmbeddingDim: 0,
  residual: 'condition',
  residualScale: 2,
  upscale: 4,
} as unknown as PackManifest;

/** v that depends on the condition, so the output has structure for the mask to act on. */
const session = scriptedSession((feeds) => {
  const cond = feeds.cond as OrtTensorIn;
  const v = new Float32Array(cond.data.length);
  for (let i = 0; i < v.length; i++) v[i] = 0.3 * Math.sin(7 * (cond.data[i] as number) + i * 0.01);
  return { v: { data: v, dims: (feeds.z as OrtTensorIn).dims } };
});

const H = 12;
const W = 20;
/** A photo with detail at every scale, and one with none at the finest (a slow ramp per row). */
const detailed = { data: Float32Array.from({ length: 3 * H * W }, (_, i) => { const h = Math.sin((i % (H * W)) * 12.9898) * 43758.5453; return (h - Math.floor(h)) * 1.6 - 0.8; }), shape: [1, 3, H, W] };
const smooth = { data: Float32Array.from({ length: 3 * H * W }, (_, i) => ((i % W) / W) ** 2 - 0.5), shape: [1, 3, H, W] };

async function restore(manifest: PackManifest, notes: string[], x: F32Tensor = detailed): Promise<F32Tensor> {
  const model = { kind: 'denoiser', manifest, denoiser: session, instructions: null } as PackModel as NativePack;
  const p = { model, request: { tool: 'restore', seed: 3 }, ctx: { jobId: 'job_t', signal: new AbortController().signal, progress: () => {} } } as unknown as PipelineInput;
  return nativeBackend(model).restore(p, x, 1, notes);
}

describe('native restore finishing', () => {
  it('applies the manifest unsharp mask to the output, and says so', async () => {
    const plainNotes: string[] = [];
    const plain = await restore(base, plainNotes);
    expect(plain.shape).toEqual([1, 3, 48, 80]);
    expect(plainNotes.some((n) => n.includes('sharpened'))).toBe(false);

    const notes: string[] = [];
    const sharpen = { sigma: 2, amount: 0.5 };
    const sharpened = await restore({ ...base, sharpen }, notes);
    const want = { data: plain.data.slice(), shape: plain.shape };
    unsharpInPlace(want, sharpen);
    expect(sharpened.shape).toEqual(plain.shape);
    let differs = 0;
    for (let i = 0; i < want.data.length; i++) {
      expect(sharpened.data[i]).toBeCloseTo(want.data[i] as number, 6);
      if (Math.abs((want.data[i] as number) - (plain.data[i] as number)) > 1e-3) differs++;
    }
    expect(differs).toBeGreaterThan(want.data.length / 4);
    expect(notes.some((n) => n.includes('unsharp mask σ 2 px, amount 0.5'))).toBe(true);
  });

  it('tells the user when a photo given to the tool for damaged photos looks clean', async () => {
    const looksClean: string[] = [];
    await restore({ ...base, restoreFor: 'damaged' }, looksClean, detailed);
    expect(looksClean.some((n) => n.startsWith('this photo looks clean'))).toBe(true);
    const soft: string[] = [];
    await restore({ ...base, restoreFor: 'damaged' }, soft, smooth);
    expect(soft.some((n) => n.includes('looks clean'))).toBe(false);
    const cleanTool: string[] = [];
    await restore({ ...base, restoreFor: 'clean' }, cleanTool, detailed);
    expect(cleanTool.some((n) => n.includes('looks clean'))).toBe(false);
  });
});
