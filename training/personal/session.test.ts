import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../core/packs/manifest.ts';
import type { PersonalJob, WorkerMessage } from './protocol.ts';
import { readHistory, runPersonalJob } from './session.ts';
import { writeCorruptPair, writeSyntheticPairs } from './test-pairs.ts';

const BACKBONE = path.resolve('native-models/codi-backbone');
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-personal-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!existsSync(path.join(BACKBONE, 'train-weights.bin')))('runPersonalJob', () => {
  it('pauses after a step, resumes from the checkpoint with a gapless history, exports an adapter pack', async () => {
    const pairs = path.join(tmp, 'pairs');
    await writeSyntheticPairs(pairs, 9, 72);
    await writeCorruptPair(pairs, 'broken');
    const job: PersonalJob = {
      runDir: path.join(tmp, 'run'),
      source: { dir: pairs },
      align: 'crop',
      preset: 'tiny',
      backbonePack: BACKBONE,
      userPacksDir: path.join(tmp, 'packs'),
      name: 'my-look',
      title: 'My look',
      seed: 3,
      steps: 4,
    };
    const msgs: WorkerMessage[] = [];
    const control = { aborted: false, reason: null as 'pause' | 'cancel' | null };
    const first = await runPersonalJob(job, {
      control,
      send: (m) => {
        msgs.push(m);
        if (m.type === 'progress' && m.step === 2) {
          control.aborted = true;
          control.reason = 'pause';
        }
      },
    });
    expect(first).toBe('paused');
    expect(msgs.find((m) => m.type === 'backend')).toBeTruthy();
    expect((await readHistory(job.runDir)).map((p) => p.step)).toEqual([1, 2]);

    const again: WorkerMessage[] = [];
    const second = await runPersonalJob(job, { control: { aborted: false, reason: null }, send: (m) => again.push(m) });
    const err = again.find((m) => m.type === 'error');
    expect(err, err && 'message' in err ? err.message : '').toBeUndefined();
    expect(second).toBe('done');
    const hist = again.find((m) => m.type === 'history');
    expect(hist).toMatchObject({ resumedFrom: 2, totalSteps: 4 });
    expect(again.filter((m) => m.type === 'progress').map((m) => (m as { step: number }).step)).toEqual([3, 4]);
    const history = await readHistory(job.runDir);
    expect(history.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    for (const p of history) expect(Number.isFinite(p.losses.total)).toBe(true);

    const preview = again.find((m) => m.type === 'preview');
    expect(preview && preview.type === 'preview' && preview.items[0]!.output).toMatch(/^data:image\/png;base64,/);
    const done = again.find((m) => m.type === 'done');
    if (!done || done.type !== 'done') throw new Error('no done message');
    expect(Number.isFinite(done.psnr) && Number.isFinite(done.psnrInput)).toBe(true);
    const manifest = parseManifest(await readFile(path.join(done.packDir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'my-look', title: 'My look', task: 'custom', method: 'pe-codi', conditionChannels: 48 });
    expect(manifest.backbone?.pack).toBe('codi-backbone');
    expect(manifest.files.map((f) => f.role)).toContain('adapter');
    const card = await readFile(path.join(done.packDir, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/psnr_adapter_heldout/);
    expect(card).toMatch(/personal before\/after pairs/);
    expect(existsSync(path.join(job.userPacksDir, '.my-look.partial'))).toBe(false);
  }, 120_000);
});
