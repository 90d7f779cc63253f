import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../core/rng.ts';
import { buildDataset, parseBuildDatasetArgs, runBuildDatasetCommand, usablePhotos } from './build-dataset.ts';
import type { DatasetItem } from './build-dataset.ts';
import { PHOTO_INDEX_VERSION } from '../data/debian-fetch.ts';
import { findEditByText } from '../data/edits.ts';

/** A photo library in a temp folder (two train photos, one val photo), no apt needed. */
async function fakeLibrary(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'codi-photos-'));
  mkdirSync(join(dir, 'photos', 'pkg'), { recursive: true });
  const rng = new Rng(1);
  const photos = [];
  for (const [i, split] of (['train', 'train', 'val'] as const).entries()) {
    const w = 300, h = 200;
    const px = new Uint8Array(w * h * 3).map((_, j) => Math.floor(((j % 3) * 60 + (j / 3) % w) % 256 * 0.8 + 40 * rng.uniform()));
    const prepared = `photos/pkg/p${i}.png`;
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(dir, prepared));
    photos.push({ key: `pkg:p${i}.jpg`, package: 'pkg', version: '1', path: `p${i}.jpg`, licence: 'CC0-1.0', copyright: 'x', licenceMatchedBy: 'Files: *', sha256: 'ab', width: w, height: h, split, reason: 'test', prepared, preparedWidth: w, preparedHeight: h });
  }
  writeFileSync(join(dir, 'sources.json'), JSON.stringify({ version: PHOTO_INDEX_VERSION, valFraction: 0.3, maxSide: 1024, packages: [], photos, rejected: [] }));
  return dir;
}

const readItems = (dir: string): DatasetItem[] => readFileSync(join(dir, 'items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as DatasetItem);

describe('build-dataset', () => {
  let cache = '';
  beforeAll(async () => {
    cache = await fakeLibrary();
  });

  it('content-only photos are never restoration targets but are content for the other tasks', () => {
    const photos = [{ record: { contentOnly: true }, id: 'webp' }, { record: {}, id: 'clean' }];
    expect(usablePhotos(photos, 'restore').map((p) => p.id)).toEqual(['clean']);
    for (const task of ['inpaint', 'edit', 'depth', 'pretrain'] as const) expect(usablePhotos(photos, task)).toHaveLength(2);
  });

  it('--summary prints the library in numbers', async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => out.push(s) > 0);
    try {
      expect(await runBuildDatasetCommand(['--summary', '--cache', cache])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toMatch(/^3 photos, 0 MP \(originals\), 0 content-only, 1 in val/);
    expect(out.join('')).toContain('| CC0-1.0 | 3 |');
    expect(await runBuildDatasetCommand(['--summary', '--task', 'restore'])).toBe(2);
  });

  it('parses arguments and rejects bad ones', () => {
    const o = parseBuildDatasetArgs(['--task', 'restore', '--out', '/tmp/x', '--count', '10', '--seed=3', '--scale', '2']);
    expect(o).toMatchObject({ task: 'restore', size: 64, count: 10, seed: 3, scale: 2, preset: 'stablesr' });
    expect(() => parseBuildDatasetArgs(['--task', 'paint', '--out', 'x', '--count', '1'])).toThrow(/--task/);
    expect(() => parseBuildDatasetArgs(['--task', 'restore', '--out', 'x', '--count', '1', '--scale', '3'])).toThrow(/scale/);
    expect(() => parseBuildDatasetArgs(['--task', 'edit', '--out', 'x'])).toThrow(/--count/);
  });

  it('writes the CONVENTIONS.md format for every task with the right image sizes', async () => {
    for (const task of ['restore', 'inpaint', 'edit', 'depth', 'pretrain'] as const) {
      const out = mkdtempSync(join(tmpdir(), `codi-ds-${task}-`));
      const r = await buildDataset({ task, out, size: 32, count: 10, seed: 1, scale: 4, valFraction: 0.2, preset: 'stablesr', cacheDir: cache, refetch: false });
      expect(r).toMatchObject({ train: 8, val: 2 });
      const ds = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
      expect(ds.task).toBe(task);
      expect(ds.size).toEqual([32, 32]);
      expect(ds.sources[0]).toMatchObject({ package: 'pkg', licence: 'CC0-1.0', sha256: 'ab' });
      const items = readItems(out);
      expect(items.map((i) => i.split)).toEqual([...Array(8).fill('train'), 'val', 'val']);
      const meta = await sharp(join(out, items[0]?.target as string)).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([32, 32, 3]);
      const first = items[0] as DatasetItem;
      if (task === 'restore') {
        expect(first.scale).toBe(4);
        const lr = await sharp(join(out, first.input as string)).metadata();
        expect([lr.width, lr.height]).toEqual([8, 8]);
      }
      if (task === 'inpaint' || task === 'depth') {
        const m = await sharp(join(out, (first.mask ?? first.depth) as string)).metadata();
        expect([m.width, m.height, m.channels]).toEqual([32, 32, 1]);
      }
      if (task === 'edit') {
        for (const it of items.filter((i) => i.split === 'train')) {
          const e = findEditByText(it.text as string);
          expect(e?.paraphrases.find((p) => p.text === it.text)?.heldOut).toBe(false);
        }
        expect(JSON.parse(readFileSync(join(out, 'instructions.json'), 'utf8')).length).toBeGreaterThanOrEqual(12);
      }
    }
  });

  it('is reproducible under a seed', async () => {
    const a = mkdtempSync(join(tmpdir(), 'codi-ds-a-'));
    const b = mkdtempSync(join(tmpdir(), 'codi-ds-b-'));
    for (const out of [a, b]) expect(await runBuildDatasetCommand(['--task', 'restore', '--out', out, '--size', '32', '--count', '4', '--seed', '9', '--cache', cache])).toBe(0);
    for (const it of readItems(a)) {
      expect(readFileSync(join(a, it.input as string)).equals(readFileSync(join(b, it.input as string)))).toBe(true);
      expect(readFileSync(join(a, it.target)).equals(readFileSync(join(b, it.target)))).toBe(true);
    }
    expect(await runBuildDatasetCommand(['--task', 'nope'])).toBe(2);
  });
});
