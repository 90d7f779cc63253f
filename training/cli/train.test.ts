import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { INSTRUCTION_FEATURE_DIM, instructionFeatures } from '../../core/text/instruction-features.ts';
import os from 'node:os';
import path from 'node:path';
import { runTrainCommand } from './train.ts';
import { writeSyntheticRestoreTask } from '../data/synthetic-task.ts';
import { parseManifest } from '../../core/packs/manifest.ts';
import { decodeTrainWeights, encodeTrainWeights } from './train-weights.ts';
import { NET_PRESETS, readLossCurve } from './train.ts';
import { Trainer } from '../trainer/trainer.ts';
import { readDataset } from '../data/dataset-reader.ts';
import { sourcesFingerprint } from '../data/sources-fingerprint.ts';

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
    // the data set it was trained on, for the model card's Training data section (build/pack-card-sources.ts)
    const sources = (JSON.parse(await readFile(path.join(data, 'dataset.json'), 'utf8')) as { sources: unknown[] }).sources;
    expect(am.training!.sources).toBe(sourcesFingerprint(sources));

    // --resume continues the same run folder to more steps
    lines.length = 0;
    expect(await runTrainCommand(['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, '--out', ad, '--resume', ...common.slice(0, -4), '--steps', '3', '--backend', 'wasm'], io)).toBe(0);
    expect(lines.some((l) => /resumed .* at step 2/.test(l))).toBe(true);
    expect(lines.some((l) => /^step 3\/3/.test(l))).toBe(true);
  });

  it('trains a residual adapter (--residual condition) and the manifest says so', async () => {
    const data = path.join(root, 'data');
    const common = ['--data', data, '--net', 'tiny', '--batch', '4', '--steps', '2', '--backend', 'wasm'];
    const bb = path.join(root, 'bb-res');
    expect(await runTrainCommand(['--method', 'pretrain', '--out', bb, ...common], io)).toBe(0);
    expect(await runTrainCommand(['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, '--out', path.join(root, 'bad'), '--residual', 'maybe', ...common], io)).toBe(1);
    const ad = path.join(root, 'adapter-res');
    expect(await runTrainCommand(['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, '--out', path.join(root, 'bad'), '--residual', 'condition', '--residual-scale', '0', ...common], io)).toBe(1);
    expect(await runTrainCommand(['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, '--out', path.join(root, 'bad'), '--residual-scale', '4', ...common], io)).toBe(1);
    // the classic hole fill is an inpaint condition: refused elsewhere, and only 'zero' or 'telea'
    expect(await runTrainCommand(['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, '--out', path.join(root, 'bad'), '--hole-fill', 'telea', ...common], io)).toBe(1);
    expect(await runTrainCommand(['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, '--out', path.join(root, 'bad'), '--hole-fill', 'blur', ...common], io)).toBe(1);
    expect(await runTrainCommand(['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, '--out', ad, '--residual', 'condition', '--residual-scale', '4', ...common], io)).toBe(0);
    const manifest = parseManifest(await readFile(path.join(ad, 'manifest.json'), 'utf8'));
    expect(manifest.residual).toBe('condition');
    expect(manifest.residualScale).toBe(4);
    // the model card names the engine and carries the run's loss curve
    const card = await readFile(path.join(ad, 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain('TensorFlow.js engine');
    expect(card).toMatch(/\| step \| loss \|[\s\S]*\| 2 \| \d+\.\d{4} \|/);
  });

  it('sets the weight of the ground-truth term with --x-weight, and refuses a bad one', async () => {
    const data = path.join(root, 'data');
    const common = ['--data', data, '--net', 'tiny', '--batch', '4', '--steps', '2', '--backend', 'wasm', '--checkpoint-every', '1'];
    const bb = path.join(root, 'bb-xw');
    expect(await runTrainCommand(['--method', 'pretrain', '--out', bb, ...common], io)).toBe(0);
    const adapter = ['--task', 'restore', '--method', 'pe-codi', '--backbone', bb, ...common];
    lines.length = 0;
    expect(await runTrainCommand([...adapter, '--out', path.join(root, 'bad'), '--x-weight=-1'], io)).toBe(1);
    expect(await runTrainCommand([...adapter, '--out', path.join(root, 'bad'), '--x-weight', 'lots'], io)).toBe(1);
    expect(lines.join('\n')).toMatch(/--x-weight must be ≥ 0[\s\S]*--x-weight must be a number/);
    const out = path.join(root, 'adapter-xw');
    expect(await runTrainCommand([...adapter, '--out', out, '--x-weight', '7'], io)).toBe(0);
    const ds = await readDataset(data);
    const t = await Trainer.resume(`${out}.run`, { items: ds.train, geometry: ds.geometry });
    expect(t?.config.xWeight).toBe(7);
  });

  it('trains an edit adapter with the engine\'s instruction featurizer and ships the instruction table', async () => {
    const data = path.join(root, 'edit');
    await mkdir(path.join(data, 'img'), { recursive: true });
    const png = (v: number, file: string) => sharp(Buffer.alloc(16 * 16 * 3, v), { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(path.join(data, file));
    await Promise.all([png(40, 'img/src.png'), png(10, 'img/dark.png'), png(90, 'img/bright.png')]);
    const phrasings = ['make it dark', 'darken it', 'brighten it', 'more light'];
    const items = Array.from({ length: 8 }, (_, i) => ({ split: i < 6 ? 'train' : 'val', input: 'img/src.png', target: i % 2 ? 'img/bright.png' : 'img/dark.png', text: phrasings[i % 4] }));
    await writeFile(path.join(data, 'dataset.json'), JSON.stringify({ task: 'edit', size: [16, 16], sources: [] }));
    await writeFile(path.join(data, 'items.jsonl'), items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    await writeFile(path.join(data, 'instructions.json'), JSON.stringify([{ id: 'dark', paraphrases: [{ text: 'make it dark', heldOut: false }, { text: 'darken it', heldOut: false }, { text: 'lights out', heldOut: true }] }]));
    const out = path.join(root, 'edit-pack');
    lines.length = 0;
    const bad = ['--task', 'edit', '--method', 'pe-codi', '--backbone', path.join(root, 'bb'), '--data', data, '--out', out, '--t-sampling', 'often', '--backend', 'wasm'];
    expect(await runTrainCommand(bad, io)).toBe(1);
    expect(lines.join('\n')).toMatch(/--t-sampling must be shared or per-sample/);
    lines.length = 0;
    const code = await runTrainCommand(['--task', 'edit', '--method', 'pe-codi', '--backbone', path.join(root, 'bb'), '--data', data, '--out', out, '--batch', '4', '--steps', '1', '--backend', 'wasm', '--t-sampling', 'per-sample', '--warmup', '5'], io);
    expect(code, lines.join('\n')).toBe(0);
    const m = parseManifest(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ task: 'edit', textEmbeddingDim: INSTRUCTION_FEATURE_DIM });
    expect(m.files.find((f) => f.role === 'adapter')!.inputs!.find((i) => i.name === 'text')!.shape[1]).toBe(INSTRUCTION_FEATURE_DIM);
    const entry = m.files.find((f) => f.role === 'instruction-table')!;
    const table = JSON.parse(await readFile(path.join(out, entry.path), 'utf8'));
    expect(table).toMatchObject({ featurizer: 'hashed-trigram-v1', dim: INSTRUCTION_FEATURE_DIM });
    // the training wordings (never the held-out one), each with its edit id
    expect(table.known).toEqual([
      { text: 'make it dark', edit: 'dark' },
      { text: 'darken it', edit: 'dark' },
      { text: 'brighten it', edit: 'brighten it' },
      { text: 'more light', edit: 'more light' },
    ]);
    const emb = table.instructions.find((i: { text: string }) => i.text === 'darken it').embedding as number[];
    const want = instructionFeatures('darken it');
    expect(emb).toHaveLength(INSTRUCTION_FEATURE_DIM);
    emb.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });

  it('reads the loss curve of a resumed run: the later line of a repeated step wins, steps past the end and torn lines are dropped', async () => {
    const f = path.join(root, 'loss.jsonl');
    await writeFile(f, ['{"step":10,"loss":0.5}', '{"step":20,"loss":0.4}', '{"step":20,"loss":0.3}', '{"step":30,"loss":0.2}', '{"step":40,"lo'].join('\n'));
    expect(readLossCurve(f, 30)).toEqual([[10, 0.5], [20, 0.3], [30, 0.2]]);
    expect(readLossCurve(path.join(root, 'absent.jsonl'), 30)).toEqual([]);
  });

  it('train-weights round-trips', () => {
    const w = { net: NET_PRESETS.tiny, backbone: { a: { shape: [2], data: new Float32Array([1, 2]) } }, adapter: { mu: { shape: [1], data: new Float32Array([0.5]) } } };
    const back = decodeTrainWeights(encodeTrainWeights(w));
    expect(back.net).toEqual(w.net);
    expect(Array.from(back.backbone.a!.data)).toEqual([1, 2]);
    expect(Array.from(back.adapter!.mu!.data)).toEqual([0.5]);
  });
});
