import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodiEvent } from '../contract/schemas.ts';
import type { PersonalPreflightResponse, PersonalRunInfo } from '../contract/personal-schemas.ts';
import { exportAdapterFile, importAdapterFile } from './adapter-file.ts';
import { PersonalManager } from './personal.ts';
import { REPO_ROOT } from './fork.ts';

const BACKBONE = path.join(REPO_ROOT, 'native-models', 'codi-backbone');
let tmp: string;

/** Smooth gradient "photos" and a warm grade as the edit. */
async function writePairs(dir: string, n: number, side = 72): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const before = Buffer.alloc(side * side * 3);
    const after = Buffer.alloc(side * side * 3);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++)
        for (let c = 0; c < 3; c++) {
          const v = (40 + ((x * (c + 1) + y * (i + 2) * 3) % 170)) / 255;
          const o = (y * side + x) * 3 + c;
          before[o] = Math.round(v * 255);
          after[o] = Math.max(0, Math.min(255, Math.round(v * [1.15, 1, 0.8][c]! * 255)));
        }
    const raw = { width: side, height: side, channels: 3 as const };
    await sharp(before, { raw }).png().toFile(path.join(dir, `p${i}.png`));
    await sharp(after, { raw }).png().toFile(path.join(dir, `p${i}-after.png`));
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-broker-personal-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!existsSync(path.join(BACKBONE, 'train-weights.bin')))('PersonalManager (worker process)', () => {
  it('preflights in the worker, trains a tiny adapter, rescans packs, and round-trips the adapter file', async () => {
    const pairs = path.join(tmp, 'pairs');
    await writePairs(pairs, 9);
    await writeFile(path.join(pairs, 'orphan.jpg'), 'not even an image');
    const events: CodiEvent[] = [];
    let rescans = 0;
    const packs = path.join(tmp, 'packs');
    const m = new PersonalManager({ runsDir: path.join(tmp, 'runs'), userPacksDir: packs, backbonePack: BACKBONE, publish: (e) => events.push(e), rescanPacks: async () => void rescans++ });

    const pf = await m.handle('personalPreflight', { source: { dir: pairs }, estimate: false });
    if (!pf.ok) throw new Error(pf.error.message);
    const report = pf.value as PersonalPreflightResponse;
    expect(report.ok).toBe(true);
    expect(report.counts.usable).toBe(9);
    expect(report.problems.map((p) => `${p.kind}:${p.file}`)).toEqual(['unmatched:orphan.jpg']);

    const bad = await m.handle('personalStart', { source: { dir: pairs }, title: '' });
    expect(bad.ok).toBe(false);

    const st = await m.handle('personalStart', { source: { dir: pairs }, title: 'Warm look', preset: 'tiny', steps: 3 });
    if (!st.ok) throw new Error(st.error.message);
    const runId = (st.value as PersonalRunInfo).runId;
    const done = await new Promise<PersonalRunInfo>((resolve, reject) => {
      const timer = setInterval(() => {
        const last = events.filter((e) => e.type === 'personal-progress').at(-1);
        if (last?.type === 'personal-progress' && !last.personal.run.active && last.personal.kind === 'phase') {
          clearInterval(timer);
          if (last.personal.run.phase === 'done') resolve(last.personal.run);
          else reject(new Error(`run ended ${last.personal.run.phase}: ${last.personal.run.error ?? last.personal.run.detail ?? ''}`));
        }
      }, 200);
    });
    expect(done.result?.packName).toBe('my-warm-look');
    expect(rescans).toBe(1);
    expect(events.some((e) => e.type === 'personal-progress' && e.personal.kind === 'progress' && e.personal.point?.step === 3)).toBe(true);
    const status = await m.handle('personalStatus', { runId });
    expect(status.ok && (status.value as { runs: PersonalRunInfo[] }).runs[0]!.history.map((p) => p.step)).toEqual([1, 2, 3]);

    // adapter file: export, tamper → refused, intact → imported under its name
    const file = path.join(tmp, 'warm.codi-adapter');
    const ex = await m.handle('exportAdapter', { pack: 'my-warm-look', path: file });
    expect(ex.ok).toBe(true);
    const other = path.join(tmp, 'other-packs');
    const bytes = await readFile(file);
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 10]! ^= 0xff;
    await writeFile(path.join(tmp, 'bad.codi-adapter'), tampered);
    await expect(importAdapterFile(path.join(tmp, 'bad.codi-adapter'), other)).rejects.toThrow(/sha256|corrupt/);
    await writeFile(path.join(tmp, 'short.codi-adapter'), bytes.subarray(0, bytes.length - 100));
    await expect(importAdapterFile(path.join(tmp, 'short.codi-adapter'), other)).rejects.toThrow(/truncated|trailing/);
    expect(await importAdapterFile(file, other)).toBe('my-warm-look');
    expect(existsSync(path.join(other, 'my-warm-look', 'adapter.onnx'))).toBe(true);
    await expect(importAdapterFile(file, other)).rejects.toThrow(/already installed/);
    expect(await exportAdapterFile(path.join(other, 'my-warm-look'), path.join(tmp, 'again.codi-adapter'))).toBe(bytes.length);
  }, 120_000);
});
