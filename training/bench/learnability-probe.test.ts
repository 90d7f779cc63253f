import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCleanTwin } from '../data/clean-twin.ts';
import { writeSyntheticRestoreTask } from '../data/synthetic-task.ts';
import { type Probe, report, runLane } from './learnability-probe.ts';

const root = await mkdtemp(path.join(os.tmpdir(), 'codi-probe-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const probe: Probe = { steps: 3, evalEvery: 1, width: 8, layers: 2, batch: 4, lr: 1e-2, k: 1, maxTrain: 8, maxVal: 2, seed: 0 };

describe('restoration learnability probe', () => {
  it('trains on a data set and on its clean twin, and reports both curves against bicubic', async () => {
    const data = await writeSyntheticRestoreTask({ dir: path.join(root, 'data'), size: 16, train: 8, val: 2, seed: 3, noiseStd: 0.1 });
    const twin = path.join(root, 'twin');
    await writeCleanTwin(data, twin);
    const degraded = await runLane(data, probe);
    const clean = await runLane(twin, probe);
    for (const lane of [degraded, clean]) {
      expect(lane.curve.map((p) => p.step)).toEqual([0, 1, 2, 3]);
      expect(lane.curve.every((p) => Number.isFinite(p.valPsnr))).toBe(true);
      expect(lane.curve[3]!.valPsnr).not.toBe(lane.curve[0]!.valPsnr); // it trained
      expect([lane.trainItems, lane.valItems]).toEqual([8, 2]);
    }
    // the twin's inputs are clean, so its bicubic baseline is the better one
    expect(clean.bicubicPsnr).toBeGreaterThan(degraded.bicubicPsnr);
    const md = report(probe, degraded, clean);
    expect(md.split('\n').filter((l) => /^\| \d+ \|/.test(l))).toHaveLength(4);
    expect(md).toMatch(/Best: degraded [\d.]+ dB at step \d/);
  }, 60_000);
});
