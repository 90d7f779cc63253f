import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
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

/** A 16×16 dataset of one task written by hand (PNG files + dataset.json + items.jsonl). */
async function writeTaskDataset(task: string, items: Record<string, unknown>[], files: Record<string, { data: Uint8Array; channels: 1 | 3 }>, extra: Record<string, string> = {}): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), `codi-${task}-`));
  for (const [rel, f] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(d, rel)), { recursive: true });
    await sharp(Buffer.from(f.data), { raw: { width: 16, height: 16, channels: f.channels } }).png().toFile(path.join(d, rel));
  }
  await writeFile(path.join(d, 'dataset.json'), JSON.stringify({ task, size: [16, 16], sources: [] }));
  await writeFile(path.join(d, 'items.jsonl'), items.map((i) => JSON.stringify(i)).join('\n') + '\n');
  for (const [name, text] of Object.entries(extra)) await writeFile(path.join(d, name), text);
  return d;
}

const ramp = (channels: 1 | 3, f: (i: number) => number) => ({ data: Uint8Array.from({ length: 256 * channels }, (_, i) => f(i)), channels });

describe('dataset reader: every task the builder writes', () => {
  it('reads a pretrain dataset (targets only) as unconditional data, and refuses it for conditional training', async () => {
    const d = await writeTaskDataset('pretrain', [{ split: 'train', target: 't/0.png' }, { split: 'val', target: 't/1.png' }], { 't/0.png': ramp(3, (i) => i % 256), 't/1.png': ramp(3, (i) => 255 - (i % 256)) });
    try {
      const ds = await readDataset(d, { unconditional: true });
      expect(ds.meta.task).toBe('pretrain');
      expect(ds.geometry).toEqual({ channels: 48, condChannels: 0, textDim: 0, h: 4, w: 4 });
      expect(ds.train[0]!.cond).toBeUndefined();
      await expect(readDataset(d)).rejects.toThrow(/pretrain dataset.*--method pretrain/);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('depth: the 8-bit map becomes a 16-channel condition with 255 (near) = +1 and 0 (far) = −1', async () => {
    const depth = ramp(1, (i) => (i < 128 ? 255 : i < 192 ? 0 : 128));
    const d = await writeTaskDataset('depth', [{ split: 'train', target: 't/0.png', depth: 'd/0.png' }], { 't/0.png': ramp(3, () => 100), 'd/0.png': depth });
    try {
      const ds = await readDataset(d);
      expect(ds.geometry.condChannels).toBe(16);
      const back = pixelShuffle({ data: ds.train[0]!.cond!, shape: [1, 16, 4, 4] }, 4).data;
      expect(back[0]).toBeCloseTo(1, 6);
      expect(back[130]).toBeCloseTo(-1, 6);
      expect(back[200]).toBeCloseTo(128 / 127.5 - 1, 6);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('inpaint: masked target (0 under the mask) + the mask (255 → 1 = fill) as 64 channels', async () => {
    const mask = ramp(1, (i) => (i % 16 < 4 ? 255 : 0));
    const d = await writeTaskDataset('inpaint', [{ split: 'train', target: 't/0.png', mask: 'm/0.png' }], { 't/0.png': ramp(3, () => 255), 'm/0.png': mask });
    try {
      const ds = await readDataset(d);
      expect(ds.geometry.condChannels).toBe(64);
      const cond = ds.train[0]!.cond!;
      const img = pixelShuffle({ data: cond.slice(0, 48 * 16), shape: [1, 48, 4, 4] }, 4).data;
      const m = pixelShuffle({ data: cond.slice(48 * 16), shape: [1, 16, 4, 4] }, 4).data;
      for (const p of [0, 3, 4, 15, 16 * 5 + 2, 16 * 9 + 10]) {
        const fill = p % 16 < 4;
        expect(m[p]).toBe(fill ? 1 : 0);
        for (let c = 0; c < 3; c++) expect(img[c * 256 + p]).toBeCloseTo(fill ? 0 : 1, 6);
      }
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it("inpaint, holeFill 'telea': the hole carries the classic fill (here the constant photo's own colour), the mask is unchanged", async () => {
    const mask = ramp(1, (i) => (i % 16 < 4 ? 255 : 0));
    const d = await writeTaskDataset('inpaint', [{ split: 'train', target: 't/0.png', mask: 'm/0.png' }], { 't/0.png': ramp(3, () => 255), 'm/0.png': mask });
    try {
      const zero = (await readDataset(d)).train[0]!.cond!;
      const cond = (await readDataset(d, { holeFill: 'telea' })).train[0]!.cond!;
      const img = pixelShuffle({ data: cond.slice(0, 48 * 16), shape: [1, 48, 4, 4] }, 4).data;
      for (let p = 0; p < 256; p++) for (let c = 0; c < 3; c++) expect(img[c * 256 + p]).toBeCloseTo(1, 6);
      expect(Array.from(cond.slice(48 * 16))).toEqual(Array.from(zero.slice(48 * 16)));
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('edit: instructions are embedded; the known wordings are the train texts and the catalogue’s non-held-out ones', async () => {
    const catalogue = [{ id: 'dark', instruction: 'make it dark', paraphrases: [{ text: 'make it dark', heldOut: false }, { text: 'darken it', heldOut: false }, { text: 'dim the photo', heldOut: true }] }];
    const items = [
      { split: 'train', target: 't/0.png', input: 'i/0.png', text: 'make it dark' },
      { split: 'train', target: 't/0.png', input: 'i/0.png', text: 'go dark' },
      { split: 'val', target: 't/0.png', input: 'i/0.png', text: 'dim the photo' },
    ];
    const d = await writeTaskDataset('edit', items, { 't/0.png': ramp(3, () => 20), 'i/0.png': ramp(3, () => 200) }, { 'instructions.json': JSON.stringify(catalogue) });
    try {
      const embedText = (t: string) => Float32Array.from({ length: 8 }, (_, i) => t.length + i);
      await expect(readDataset(d)).rejects.toThrow(/instruction embedder/);
      const ds = await readDataset(d, { embedText, textDim: 8 });
      expect(ds.geometry).toMatchObject({ condChannels: 48, textDim: 8 });
      expect(Array.from(ds.train[1]!.text!)).toEqual(Array.from(embedText('go dark')));
      expect(ds.instructions).toEqual([
        { text: 'make it dark', edit: 'dark' },
        { text: 'darken it', edit: 'dark' },
        { text: 'go dark', edit: 'go dark' },
      ]);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
