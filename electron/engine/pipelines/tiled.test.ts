/**
 * Tiling control flow with a scripted session: the retry on allocation failure (smaller
 * tiles, said in the notes) and cancellation between tiles. Model numerics are covered with
 * real exported packs in tests/engine/.
 */
import { describe, it, expect } from 'vitest';
import { makeSchedule } from '../../../core/math/schedule.ts';
import type { PackManifest } from '../../../core/packs/manifest.ts';
import type { JobContext, ProgressReport } from '../jobs/queue.ts';
import type { LoadedSession, OrtTensorIn } from '../ort.ts';
import { isAllocationError } from '../ort.ts';
import type { PackModel } from '../packs/registry.ts';
import { scriptedSession } from './fixtures/scripted-session.ts';
import { sampleTiled } from './tiled.ts';

const manifest = {
  name: 'scripted',
  version: '1',
  prediction: 'v',
  schedule: { kind: 'scaled-linear', trainSteps: 1000 },
  sampler: { kind: 'codi', steps: 1, maxSteps: 4 },
  latent: { kind: 'pixel-unshuffle', factor: 4 },
  tile: { size: 128, overlap: 16 },
  conditionChannels: 48,
  textEmbeddingDim: 0,
} as unknown as PackManifest;

/** v = 0 (so x̂ = α_t·z); throws ORT's allocation message above `maxLatentArea`. */
function session(maxLatentArea: number, seen: number[][]): LoadedSession {
  return scriptedSession((feeds) => {
    const z = feeds.z as OrtTensorIn;
    seen.push([...z.dims]);
    if ((z.dims[2] as number) * (z.dims[3] as number) > maxLatentArea) throw new Error('Failed to allocate memory for requested buffer of size 123456');
    return { v: { data: new Float32Array(z.data.length), dims: z.dims } };
  });
}

function ctx(signal = new AbortController().signal, reports: ProgressReport[] = []): JobContext {
  return { jobId: 'job_t', signal, progress: (r) => reports.push(r) };
}

describe('tiled sampling', () => {
  it('retries with half-size tiles after an allocation failure and says so', async () => {
    const seen: number[][] = [];
    const model: PackModel = { kind: 'denoiser', manifest, denoiser: session(16 * 16, seen), instructions: null };
    const notes: string[] = [];
    const reports: ProgressReport[] = [];
    const cond = { data: new Float32Array(48 * 32 * 32), shape: [1, 48, 32, 32] };
    const out = await sampleTiled({ model, cond, text: null, steps: 1, seed: 1, ctx: ctx(undefined, reports), notes });
    expect(out.shape).toEqual([1, 48, 32, 32]);
    expect(seen[0]).toEqual([1, 48, 32, 32]); // one 128-px tile first
    expect(seen.slice(1).every((d) => d[2] === 16 && d[3] === 16)).toBe(true);
    expect(notes).toEqual(['ran out of memory; retried with smaller tiles (64 px)']);
    expect(reports.some((r) => r.stage === 'retrying')).toBe(true);
    expect(reports.filter((r) => r.tile).at(-1)?.tile).toEqual({ i: 9, m: 9 });
  });

  it('stops between tiles when cancelled', async () => {
    const seen: number[][] = [];
    const model: PackModel = { kind: 'denoiser', manifest, denoiser: session(1e9, seen), instructions: null };
    const ac = new AbortController();
    const c = ctx(ac.signal);
    const cond = { data: new Float32Array(48 * 64 * 64), shape: [1, 48, 64, 64] };
    const p = sampleTiled({
      model,
      cond,
      text: null,
      steps: 1,
      seed: 1,
      ctx: { ...c, progress: (r) => (r.tile?.i === 2 ? ac.abort() : undefined) },
      notes: [],
    });
    await expect(p).rejects.toThrow(/abort/i);
    expect(seen.length).toBe(2);
  });

  it('adds the condition image back for residual packs, across tiles', async () => {
    // v = (α_t/σ_t)·z makes x̂ = α_t z − σ_t v = 0: a model that changes nothing.
    const sched = makeSchedule({ kind: 'scaled-linear', trainSteps: 1000 });
    const zeroChange: LoadedSession = {
      ...session(1e9, []),
      async run(feeds: Record<string, OrtTensorIn>) {
        const z = feeds.z as OrtTensorIn;
        const t = (feeds.t as OrtTensorIn).data[0] as number;
        const k = sched.alphaAt(t) / sched.sigmaAt(t);
        return { v: { data: Float32Array.from(z.data, (x) => x * k), dims: z.dims } };
      },
    };
    const cond = { data: new Float32Array(48 * 64 * 64).map((_, i) => Math.sin(i * 0.37)), shape: [1, 48, 64, 64] };
    const run = (residual: 'none' | 'condition') =>
      sampleTiled({ model: { kind: 'denoiser', manifest: { ...manifest, residual }, denoiser: zeroChange, instructions: null }, cond, text: null, steps: 1, seed: 1, ctx: ctx(), notes: [] });
    const plain = await run('none');
    const residual = await run('condition');
    const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxAbs(plain.data)).toBeLessThan(1e-3);
    expect(maxAbs(residual.data.map((v, i) => v - (cond.data[i] as number)))).toBeLessThan(1e-3);
  });

  it('divides a scaled residual by the residualScale of the pack before adding the condition back', async () => {
    // v = (α_t z − c)/σ_t makes x̂ = c everywhere: the model says "k·(x − b) = c".
    const sched = makeSchedule({ kind: 'scaled-linear', trainSteps: 1000 });
    const c = 0.4;
    const constant: LoadedSession = {
      ...session(1e9, []),
      async run(feeds: Record<string, OrtTensorIn>) {
        const z = feeds.z as OrtTensorIn;
        const t = (feeds.t as OrtTensorIn).data[0] as number;
        const a = sched.alphaAt(t);
        const s = sched.sigmaAt(t);
        return { v: { data: Float32Array.from(z.data, (x) => (a * x - c) / s), dims: z.dims } };
      },
    };
    const cond = { data: new Float32Array(48 * 64 * 64).map((_, i) => 0.5 * Math.sin(i * 0.37)), shape: [1, 48, 64, 64] };
    const out = await sampleTiled({ model: { kind: 'denoiser', manifest: { ...manifest, residual: 'condition', residualScale: 4 }, denoiser: constant, instructions: null }, cond, text: null, steps: 1, seed: 1, ctx: ctx(), notes: [] });
    const err = out.data.reduce((m, v, i) => Math.max(m, Math.abs(v - (cond.data[i] as number) - c / 4)), 0);
    expect(err).toBeLessThan(1e-3);
  });

  it('recognises allocation errors', () => {
    expect(isAllocationError(new Error('Failed to allocate memory for requested buffer'))).toBe(true);
    expect(isAllocationError(new Error('CUDA error cudaErrorMemoryAllocation: out of memory'))).toBe(true);
    expect(isAllocationError(new Error('input z has wrong shape'))).toBe(false);
  });
  it('starts from τ·ε at the pack\'s start temperature, one tile or several (z → output is linear here)', async () => {
    const run = async (temperature: number | undefined, side: number, seed: number): Promise<Float32Array> => {
      const m = { ...manifest, sampler: { ...manifest.sampler, ...(temperature === undefined ? {} : { temperature }) } } as PackManifest;
      const model: PackModel = { kind: 'denoiser', manifest: m, denoiser: session(1 << 20, []), instructions: null };
      const cond = { data: new Float32Array(48 * side * side), shape: [1, 48, side, side] };
      return (await sampleTiled({ model, cond, text: null, steps: 1, seed, ctx: ctx(), notes: [] })).data;
    };
    for (const side of [32, 64]) {
      const hot = await run(undefined, side, 3);
      const warm = await run(0.5, side, 3);
      expect(hot.some((v) => v !== 0)).toBe(true);
      let worst = 0;
      for (let i = 0; i < hot.length; i++) worst = Math.max(worst, Math.abs((warm[i] as number) - 0.5 * (hot[i] as number)));
      expect(worst).toBeLessThan(1e-6);
      const cold = await run(0, side, 3);
      expect(cold.every((v) => v === 0)).toBe(true);
      expect(await run(0, side, 4)).toEqual(cold);
    }
  });
});
