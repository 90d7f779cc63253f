import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { writeCleanTwin } from './clean-twin.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function restoreSet(task = 'restore'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'twin-src-'));
  dirs.push(dir);
  await mkdir(path.join(dir, 'target'));
  await mkdir(path.join(dir, 'input'));
  // a horizontal ramp: its bicubic downscale is predictable, a noisy input is not
  const w = 16, h = 8, px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.fill(x * 16, (y * w + x) * 3, (y * w + x) * 3 + 3);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, 'target/0.png'));
  const noisy = Buffer.from(Array.from({ length: 4 * 2 * 3 }, (_, i) => (i * 97) % 256));
  await sharp(noisy, { raw: { width: 4, height: 2, channels: 3 } }).png().toFile(path.join(dir, 'input/0.png'));
  await writeFile(path.join(dir, 'dataset.json'), JSON.stringify({ task, size: [h, w], sources: [] }));
  await writeFile(path.join(dir, 'items.jsonl'), JSON.stringify({ split: 'val', target: 'target/0.png', input: 'input/0.png', scale: 4 }) + '\n');
  return dir;
}

describe('writeCleanTwin', () => {
  it('replaces each degraded input with the bicubic downscale of its target, keeping the items', async () => {
    const src = await restoreSet();
    const dst = await mkdtemp(path.join(os.tmpdir(), 'twin-dst-'));
    dirs.push(dst);
    await rm(dst, { recursive: true });
    expect(await writeCleanTwin(src, dst)).toEqual({ items: 1, scale: 4 });
    expect(await readFile(path.join(dst, 'items.jsonl'), 'utf8')).toBe(await readFile(path.join(src, 'items.jsonl'), 'utf8'));
    const { data, info } = await sharp(path.join(dst, 'input/0.png')).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([4, 2]);
    const row = [0, 1, 2, 3].map((x) => data[x * 3] as number);
    for (let x = 1; x < 4; x++) expect(row[x]! - row[x - 1]!).toBeGreaterThan(40); // still the ramp
    expect((await sharp(path.join(dst, 'target/0.png')).metadata()).width).toBe(16);
  });

  it('refuses a data set of another task', async () => {
    const src = await restoreSet('inpaint');
    await expect(writeCleanTwin(src, path.join(src, 'twin'))).rejects.toThrow(/needs a restore data set/);
  });
});
