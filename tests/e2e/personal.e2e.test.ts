/**
 * Personal adapters end to end in real Chromium (web mode): a pairs folder made by this test
 * (12 procedurally drawn scenes with a hidden look — colour grade + vignette — plus one planted
 * corrupt pair; drawn rather than cut from the Debian photo cache so that CI, which has no such
 * cache, runs it too) → Adapters panel preflight finds the bad pair → training in the worker
 * process with a live loss chart (steps capped by CODI_PERSONAL_MAX_STEPS for CI time) → the
 * adapter appears as a tool and runs on an opened image.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { applyLook, writeCorruptPair } from '../../training/personal/test-pairs.ts';
import { appReady, describeE2E, notice, REPO, shot, until, useStudio } from './harness.ts';

const BACKBONE = path.join(REPO, 'native-models', 'codi-backbone');
const run = existsSync(path.join(BACKBONE, 'train-weights.bin')) ? describeE2E : describe.skip;

/** A 128×128 scene: sky/ground gradients, a few discs and bars, fine grain; different per seed. */
function scene(seed: number): { data: Buffer; info: { width: number; height: number } } {
  const W = 128;
  const H = 128;
  const rgb = Buffer.alloc(W * H * 3);
  let s = seed * 2654435761 + 1;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
  const discs = Array.from({ length: 4 }, () => ({ x: rnd() * W, y: rnd() * H, r: 8 + rnd() * 24, c: [rnd() * 255, rnd() * 255, rnd() * 255] }));
  const horizon = 40 + rnd() * 48;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      let c = y < horizon ? [90 + y, 140 + y / 2, 220 - y / 2] : [70 + (y - horizon), 110 - (y - horizon) / 3, 50 + x / 4];
      for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r ** 2) c = d.c;
      if ((x + y * 3) % 41 < 3) c = [c[0]! * 0.6, c[1]! * 0.6, c[2]! * 0.6];
      const g = (rnd() - 0.5) * 18;
      for (let k = 0; k < 3; k++) rgb[i + k] = Math.max(0, Math.min(255, Math.round(c[k]! + g)));
    }
  }
  return { data: rgb, info: { width: W, height: H } };
}

/** 64×64 crops of drawn scenes: before = the crop, after = the hidden look applied to it. */
async function makePairs(dir: string, n: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  let sample = '';
  for (let i = 0; i < n; i++) {
    const { data, info } = scene(i + 1);
    const side = 64;
    const crop = Buffer.alloc(side * side * 3);
    for (let y = 0; y < side; y++) data.copy(crop, y * side * 3, ((32 + y) * info.width + 32) * 3, ((32 + y) * info.width + 32 + side) * 3);
    const raw = { width: side, height: side, channels: 3 as const };
    await sharp(crop, { raw }).png().toFile(path.join(dir, `shot-${i}.png`));
    await sharp(applyLook(crop, side, side), { raw }).png().toFile(path.join(dir, `shot-${i}.edited.png`));
    if (i === 0) {
      sample = path.join(path.dirname(dir), 'to-edit.png');
      await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toFile(sample);
    }
  }
  await writeCorruptPair(dir, 'broken', 64);
  return sample;
}

run('personal adapters in Chromium (web mode)', () => {
  const studio = useStudio({ prefix: 'codi-e2e-personal-', packs: 'bundled', env: () => ({ CODI_PERSONAL_MAX_STEPS: '6' }) });

  it('preflights, trains with a live chart, and the adapter becomes a tool that runs', async () => {
    const pairs = path.join(studio.work, 'pairs');
    const sample = await makePairs(pairs, 12);
    const { page, errors, frames } = await studio.openApp();
    await appReady(page);

    await page.getByRole('button', { name: 'Adapters…' }).click();
    await page.getByLabel('Pairs folder').fill(pairs);
    await page.getByRole('button', { name: 'Check pairs' }).click();
    await until('preflight shown', async () => (await page.getByTestId('preflight-counts').textContent().catch(() => null)) ?? null, 180_000);
    const counts = (await page.getByTestId('preflight-counts').textContent()) ?? '';
    expect(counts).toMatch(/^12 usable pairs/);
    const problems = (await page.getByRole('list', { name: 'Pair problems' }).textContent()) ?? '';
    expect(problems).toContain('corrupt');
    expect(problems).toContain('broken_edited.jpg');
    await until('estimate measured', async () => page.getByTestId('estimate').isVisible(), 60_000);
    await shot(page, 'personal-01-preflight');

    await page.getByLabel('Tool name').fill('E2E look');
    await page.getByRole('button', { name: 'Start training' }).click();
    // live chart: at least two points drawn while the run is still going or just finished
    await until('loss chart drawn', async () => Number((await page.getByTestId('loss-chart').getAttribute('data-points')) ?? 0) >= 2, 180_000);
    await shot(page, 'personal-02-training');
    const progress = frames.filter((f) => f.t === 'evt' && f.e.type === 'personal-progress' && f.e.personal.kind === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    await until('training done', async () => (await page.getByTestId('train-result').textContent().catch(() => null)) ?? null, 300_000);
    expect((await page.getByTestId('train-backend').textContent()) ?? '').toMatch(/wasm|cpu|tensorflow/);
    expect(Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBe(6);
    await shot(page, 'personal-03-done');
    const packs = await readdir(path.join(studio.work, 'user-packs'));
    expect(packs).toEqual(['my-e2e-look']);

    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Open path…' }).click();
    await page.getByLabel('Image path').fill(sample);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await until('image open', async () => ((await page.getByTestId('image-canvas').getAttribute('aria-label')) ?? '').includes('to-edit.png'), 120_000);
    await page.getByRole('radio', { name: /E2E look/ }).check();
    await page.getByRole('button', { name: /^Run/ }).click();
    await until('adapter ran', async () => (await notice(page)).includes('done in'), 300_000, 250);
    const done = frames.flatMap((f) => (f.t === 'evt' && f.e.type === 'job-done' ? [f.e.done] : [])).at(-1);
    expect(done && [done.width, done.height]).toEqual([128, 128]);
    // the look runs at its working size and its change is carried onto the photo (manifest carry),
    // so the photo's detail stays and the model's work does not grow with the photo
    expect(done?.notes.join(' ')).toMatch(/edited at \d+×\d+, carried to 128×128 with a gain\/offset field \(mean of 8 samples\)/);
    await shot(page, 'personal-04-applied');
    expect(errors).toEqual([]);
  }, 900_000);
});
