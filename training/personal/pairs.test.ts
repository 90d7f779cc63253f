import { mkdtemp, readFile, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataset } from '../data/dataset-reader.ts';
import { preflightPairs, splitPairs, writePairsDataset } from './pairs.ts';
import { proceduralImage, writeCorruptPair, writeSyntheticPairs } from './test-pairs.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-pairs-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function plantedFolder(withDuplicate = true): Promise<string> {
  const dir = path.join(tmp, `one-${Math.random().toString(36).slice(2)}`);
  await writeSyntheticPairs(dir, 10, 80);
  await writeCorruptPair(dir, 'broken');
  // unmatched: an original without its edit
  await sharp(proceduralImage(80, 80, 5), { raw: { width: 80, height: 80, channels: 3 } }).png().toFile(path.join(dir, 'lonely.png'));
  // size mismatch: after is 96×72
  await sharp(proceduralImage(80, 80, 6), { raw: { width: 80, height: 80, channels: 3 } }).png().toFile(path.join(dir, 'crooked.png'));
  await sharp(proceduralImage(96, 72, 6), { raw: { width: 96, height: 72, channels: 3 } }).png().toFile(path.join(dir, 'crooked-after.png'));
  // duplicate: the same before image under another name, with a (different) edit
  if (withDuplicate) {
    await copyFile(path.join(dir, 'pair-00.png'), path.join(dir, 'copy.png'));
    await copyFile(path.join(dir, 'pair-01.edited.png'), path.join(dir, 'copy.edited.png'));
  }
  return dir;
}

describe('preflightPairs', () => {
  it('reports every planted problem and still finds the good pairs', async () => {
    const dir = await plantedFolder();
    const r = await preflightPairs({ dir }, { align: 'none', thumbnails: 2 });
    const kinds = (k: string) => r.problems.filter((p) => p.kind === k);
    expect(kinds('corrupt').map((p) => p.file)).toEqual(['broken_edited.jpg']);
    expect(kinds('unmatched').map((p) => p.file)).toEqual(['lonely.png']);
    expect(kinds('size-mismatch')).toHaveLength(1);
    expect(kinds('size-mismatch')[0]!.severity).toBe('error');
    // 'copy' sorts first, so the later pair-00 is the one reported and dropped
    expect(kinds('duplicate').map((p) => p.file)).toEqual(['pair-00.png']);
    expect(r.counts.usable).toBe(10);
    expect(r.ok).toBe(true);
    expect(r.counts.val).toBe(2);
    expect(r.counts.train).toBe(8);
    expect(new Set([...r.split.train, ...r.split.val]).size).toBe(10);
    expect(r.thumbs).toHaveLength(2);
    expect(r.thumbs[0]!.before.startsWith('data:image/png;base64,')).toBe(true);
  });

  it('keeps a size-mismatched pair when asked to align it', async () => {
    const dir = await plantedFolder();
    const r = await preflightPairs({ dir }, { align: 'crop' });
    const mm = r.problems.find((p) => p.kind === 'size-mismatch');
    expect(mm?.severity).toBe('warning');
    expect(r.pairs.map((p) => p.name)).toContain('crooked');
    expect(r.counts.usable).toBe(11);
  });

  it('refuses too few pairs', async () => {
    const dir = path.join(tmp, 'few');
    await writeSyntheticPairs(dir, 5, 64);
    const r = await preflightPairs({ dir });
    expect(r.ok).toBe(false);
    expect(r.problems.some((p) => p.kind === 'too-few')).toBe(true);
    await expect(writePairsDataset(r, path.join(tmp, 'few-ds'))).rejects.toThrow(/fatal/);
  });

  it('matches two folders by name', async () => {
    const dir = path.join(tmp, 'two');
    await mkdir(path.join(dir, 'before'), { recursive: true });
    await mkdir(path.join(dir, 'after'), { recursive: true });
    const src = path.join(tmp, 'two-src');
    const names = await writeSyntheticPairs(src, 9, 64);
    for (const n of names) {
      await copyFile(path.join(src, `${n}.png`), path.join(dir, 'before', `${n}.png`));
      await copyFile(path.join(src, `${n}.edited.png`), path.join(dir, 'after', `${n}.png`));
    }
    await copyFile(path.join(src, 'pair-00.png'), path.join(dir, 'after', 'extra.png'));
    const r = await preflightPairs({ dir });
    expect(r.layout).toBe('two-folders');
    expect(r.counts.usable).toBe(9);
    expect(r.problems.map((p) => `${p.kind}:${p.file}`)).toEqual(['unmatched:after/extra.png']);
  });
});

describe('splitPairs', () => {
  it('holds out ~15% (at least 2), deterministic per seed', () => {
    const names = Array.from({ length: 30 }, (_, i) => `n${i}`);
    const a = splitPairs(names, 0.15, 3);
    expect(a.val).toHaveLength(5);
    expect(splitPairs(names, 0.15, 3)).toEqual(a);
    expect(splitPairs(names.slice(0, 8), 0.15, 3).val).toHaveLength(2);
  });
});

describe('writePairsDataset', () => {
  it('writes a custom dataset the trainer reader accepts, crops aligned between before and after', async () => {
    const dir = await plantedFolder(false);
    const r = await preflightPairs({ dir }, { align: 'crop' });
    const out = path.join(tmp, 'ds');
    const s = await writePairsDataset(r, out, { crop: 32, cropsPerPair: 3, valCropsPerPair: 2 });
    expect(s.items).toEqual({ train: (r.counts.train) * 3, val: r.counts.val * 2 });
    const meta = JSON.parse(await readFile(path.join(out, 'dataset.json'), 'utf8')) as { task: string; size: number[] };
    expect(meta).toMatchObject({ task: 'custom', size: [32, 32] });
    const ds = await readDataset(out);
    expect(ds.geometry).toMatchObject({ channels: 48, condChannels: 48, h: 8, w: 8 });
    expect(ds.train).toHaveLength(s.items.train);
    // the look is a per-pixel grade + smooth vignette: the after crop must correlate with the before crop at the same place
    const first = (await readFile(path.join(out, 'items.jsonl'), 'utf8')).split('\n')[0]!;
    const item = JSON.parse(first) as { input: string; target: string };
    const b = await sharp(path.join(out, item.input)).raw().toBuffer();
    const a = await sharp(path.join(out, item.target)).raw().toBuffer();
    const g = (buf: Buffer) => Array.from({ length: buf.length / 3 }, (_, i) => buf[3 * i + 1]!);
    const gb = g(b);
    const ga = g(a);
    const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
    const mb = mean(gb);
    const ma = mean(ga);
    let num = 0;
    let db = 0;
    let da = 0;
    for (let i = 0; i < gb.length; i++) {
      num += (gb[i]! - mb) * (ga[i]! - ma);
      db += (gb[i]! - mb) ** 2;
      da += (ga[i]! - ma) ** 2;
    }
    expect(num / Math.sqrt(db * da)).toBeGreaterThan(0.9);
  });

  it('rejects a dataset write over a corrupt-only report', async () => {
    const dir = path.join(tmp, 'bad');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'x.jpg'), 'not an image');
    await writeFile(path.join(dir, 'x.edited.jpg'), 'not an image');
    const r = await preflightPairs({ dir });
    expect(r.problems.map((p) => p.kind)).toEqual(['corrupt', 'too-few']);
    expect(r.ok).toBe(false);
  });
});
