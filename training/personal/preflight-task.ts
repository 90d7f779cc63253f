/**
 * The worker's preflight mode: check the pairs and (optionally) measure the time estimate with
 * a short calibration run on a throw-away dataset cut from them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { calibrate } from './calibrate.ts';
import type { Calibration } from './calibrate.ts';
import { preflightPairs, writePairsDataset } from './pairs.ts';
import type { AlignMode, PairsSource, PreflightReport } from './pairs.ts';
import { PRESETS } from './presets.ts';

export interface PreflightTask {
  source: PairsSource;
  align: AlignMode;
  /** Run the calibration (needs the backbone pack). */
  estimate: boolean;
  backbonePack: string;
  thumbnails?: number;
}

export interface PreflightResult {
  report: PreflightReport;
  calibration?: Calibration;
}

export async function runPreflightTask(task: PreflightTask): Promise<PreflightResult> {
  const report = await preflightPairs(task.source, { align: task.align, thumbnails: task.thumbnails ?? 12 });
  if (!task.estimate || !report.ok) return { report };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'codi-calibrate-'));
  try {
    // the calibration's dataset: the real pairs, a few crops each (timing does not depend on how many)
    await writePairsDataset(report, dir, { crop: PRESETS.quick.crop, cropsPerPair: 1, valCropsPerPair: 1 });
    return { report, calibration: await calibrate(dir, task.backbonePack, { steps: 2 }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
