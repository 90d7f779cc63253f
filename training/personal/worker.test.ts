import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resumeWorker, startWorker } from './launcher.ts';
import type { PersonalJob, WorkerMessage } from './protocol.ts';
import { readHistory } from './session.ts';
import { writeSyntheticPairs } from './test-pairs.ts';

const BACKBONE = path.resolve('native-models/codi-backbone');
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-worker-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!existsSync(path.join(BACKBONE, 'train-weights.bin')))('personal worker process', () => {
  it('survives kill -9: the resumed worker continues from the checkpoint and the loss history has no gap', async () => {
    const pairs = path.join(tmp, 'pairs');
    await writeSyntheticPairs(pairs, 8, 72);
    // tiny preset: checkpoint + preview every 6 steps
    const job: PersonalJob = { runDir: path.join(tmp, 'run'), source: { dir: pairs }, align: 'crop', preset: 'tiny', backbonePack: BACKBONE, userPacksDir: path.join(tmp, 'packs'), name: 'kill-test', title: 'Kill test', seed: 1, steps: 9 };
    const first: WorkerMessage[] = [];
    const w1 = await startWorker(job, (m) => {
      first.push(m);
      // past the step-6 checkpoint, mid-chunk: the hardest place to die
      if (m.type === 'progress' && m.step === 8) w1.child.kill('SIGKILL');
    });
    const code1 = await w1.exited;
    expect(code1).toBeNull();
    expect(first.some((m) => m.type === 'done')).toBe(false);
    // history on disk may run past the checkpoint; resume must cut it back
    expect((await readHistory(job.runDir)).at(-1)!.step).toBeGreaterThanOrEqual(7);

    const second: WorkerMessage[] = [];
    const w2 = resumeWorker(job.runDir, (m) => second.push(m));
    expect(await w2.exited).toBe(0);
    const err = second.find((m) => m.type === 'error');
    expect(err && err.type === 'error' ? err.message : '').toBe('');
    expect(second.find((m) => m.type === 'history')).toMatchObject({ resumedFrom: 6, totalSteps: 9 });
    expect(second.filter((m) => m.type === 'progress').map((m) => (m as { step: number }).step)).toEqual([7, 8, 9]);
    expect((await readHistory(job.runDir)).map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const done = second.find((m) => m.type === 'done');
    expect(done && done.type === 'done' && existsSync(path.join(done.packDir, 'adapter.onnx'))).toBe(true);
  }, 120_000);
});
