import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { readDataset } from './dataset-reader.ts';
import { writeSyntheticRestoreTask } from './synthetic-task.ts';
import { pixelShuffle } from '../../core/tensor/layout.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'codi-data-'));
  await writeSyntheticRestoreTask({ dir, size: 16, train: 6, val: 2, seed: 4 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('synthetic task + dataset reader', () => {
  it('writes the CONVENTIONS format and reads it back as latents + restore conditions', async () => {
    const meta = JSON.parse(await readFile(path.join(dir, 'dataset.json'), 'utf8'));
    expect(meta).toMatchObject({ task: 'restore', size: [16, 16] });
    const lines = (await readFile(path.join(dir, 'items.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(8);
    expect(lines[0]).toMatchObject({ split: 'train', scale: 2 });
    expect((await sharp(path.join(dir, lines[0].input)).metadata()).width).toBe(8);

    const ds = await readDataset(dir);
    expect(ds.train).toHaveLength(6);
    expect(ds.val).toHaveLength(2);
    expect(ds.geometry).toEqual({ channels: 48, condChannels: 48, textDim: 0, h: 4, w: 4 });
    // x is the pixel-unshuffled [-1, 1] target: shuffling back gives the PNG's pixels
    const { data, info } = await sharp(path.join(dir, lines[0].target)).raw().toBuffer({ resolveWithObject: true });
    const img = pixelShuffle({ data: ds.train[0]!.x, shape: [1, 48, 4, 4] }, 4);
    expect(info.channels).toBe(3);
    for (const [c, y, x] of [[0, 0, 0], [1, 7, 9], [2, 15, 15]] as const) {
      expect(img.data[(c * 16 + y) * 16 + x]).toBeCloseTo(data[(y * 16 + x) * 3 + c]! / 127.5 - 1, 5);
    }
    // the condition (upsampled degraded image) is close to, but not equal to, the target
    const x = ds.train[0]!.x;
    const cond = ds.train[0]!.cond!;
    let mse = 0;
    for (let i = 0; i < x.length; i++) mse += (x[i]! - cond[i]!) ** 2;
    mse /= x.length;
    expect(mse).toBeGreaterThan(1e-4);
    expect(mse).toBeLessThan(0.2);
  });

  it('reports every bad item before training', async () => {
    const bad = await mkdtemp(path.join(os.tmpdir(), 'codi-bad-'));
    try {
      await writeSyntheticRestoreTask({ dir: bad, size: 16, train: 2, val: 0, seed: 1 });
      await appendFile(path.join(bad, 'items.jsonl'), JSON.stringify({ split: 'train', target: '../escape.png', input: 'input/00000.png', scale: 2 }) + '\n');
      await appendFile(path.join(bad, 'items.jsonl'), JSON.stringify({ split: 'train', target: 'target/00000.png', input: 'input/00000.png', scale: 4 }) + '\n');
      await writeFile(path.join(bad, 'target', 'broken.png'), 'not a png');
      await appendFile(path.join(bad, 'items.jsonl'), JSON.stringify({ split: 'train', target: 'target/broken.png', input: 'input/00000.png', scale: 2 }) + '\n');
      await expect(readDataset(bad)).rejects.toThrow(/3 bad item\(s\)[\s\S]*inside the dataset[\s\S]*scale 4[\s\S]*broken/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
