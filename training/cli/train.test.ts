import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runTrainCommand } from './train.ts';
import { writeSyntheticRestoreTask } from '../data/synthetic-task.ts';
import { parseManifest } from '../../core/packs/manifest.ts';
import { decodeTrainWeights, encodeTrainWeights } from './train-weights.ts';
import { NET_PRESETS } from './train.ts';

let root = '';
const lines: string[] = [];
const io = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(`ERR ${l}`) };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'codi-cli-'));
  await writeSyntheticRestoreTask({ dir: path.join(root, 'data'), size: 16, train: 8, val: 2, seed: 3 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('codi train', () => {
  it('rejects bad usage with exit code 1', async () => {
    expect(await runTrainCommand(['--data', 'x'], io)).toBe(1);
    expect(await runTrainCommand(['--bogus'], io)).toBe(1);
    expect(await runTrainCommand(['--task', 'restore', '--data', 'x', '--out', 'y', '--method', 'pe-codi'], io)).toBe(1);
    expect(lines.join('\n')).toMatch(/usage: codi train/);
  });

  it('pretrains a backbone pack, then trains a PE-CoDi adapter pack on it, printing progress', async () => {
    const data = path.join(root, 'data');
    const bb = path.join(root, 'bb');
    const common = ['--data', data, '--net', 'tiny', '--batch', '4', '--steps', '2', '--backend', 'wasm'];
    expect(await runTrainCommand(['--method', 'pretrain', '--out', bb, ...common], io)).toBe(0);
    const bm = parseManifest(await readFile(path.join(bb, 'manifest.json'), 'utf8'));
    expect(bm).toMatchObject({ task: 'backbone', method: 'pretrain', conditionChannels: 0 });
    expect(bm.files.map((f) => f.role).sort()).toEqual(['backbone', 'other']);

    const ad = path.join(root, 'adapter');
    lines.length = 0;
    expect(await runTrainCommand(['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, '--out', ad, '--eval', ...common], io)).toBe(0);
    expect(lines.some((l) => /^step 2\/2 +loss=/.test(l))).toBe(true);
    expect(lines.some((l) => /eval: codi 4 steps PSNR/.test(l))).toBe(true);
    const am = parseManifest(await readFile(path.join(ad, 'manifest.json'), 'utf8'));
    expect(am).toMatchObject({ task: 'restore', method: 'pe-codi', conditionChannels: 48, upscale: 2, sampler: { kind: 'codi', steps: 4, distillSteps: 50 } });
    expect(am.backbone).toEqual({ pack: bm.name, sha256: bm.files.find((f) => f.role === 'backbone')!.sha256 });
    expect(am.files.find((f) => f.role === 'adapter')!.inputs!.map((i) => i.name)).toContain('cond');
    expect(am.training!.metrics!.psnr_codi_4).toBeGreaterThan(0);

    // --resume continues the same run folder to more steps
    lines.length = 0;
    expect(await runTrainCommand(['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, '--out', ad, '--resume', ...common.slice(0, -4), '--steps', '3', '--backend', 'wasm'], io)).toBe(0);
    expect(lines.some((l) => /resumed .* at step 2/.test(l))).toBe(true);
    expect(lines.some((l) => /^step 3\/3/.test(l))).toBe(true);
  });

  it('train-weights round-trips', () => {
    const w = { net: NET_PRESETS.tiny, backbone: { a: { shape: [2], data: new Float32Array([1, 2]) } }, adapter: { mu: { shape: [1], data: new Float32Array([0.5]) } } };
    const back = decodeTrainWeights(encodeTrainWeights(w));
    expect(back.net).toEqual(w.net);
    expect(Array.from(back.backbone.a!.data)).toEqual([1, 2]);
    expect(Array.from(back.adapter!.mu!.data)).toEqual([0.5]);
  });
});
