/**
 * Runs the replication's training jobs (plan.ts) one after another through `codi train`, each in
 * its own process so a crash or Ctrl-C loses at most the steps since the last checkpoint. Resumable
 * at two levels: a job whose pack exists is skipped, and a job whose run folder holds a checkpoint
 * continues from it (`--resume`).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCleanTwin } from '../../../training/data/clean-twin.ts';
import { writeSyntheticCleanX4Task } from '../../../training/data/synthetic-task.ts';
import type { TrainJob } from './plan.ts';
import { SYNTHETIC_SEEDS } from './plan.ts';

const CODI_BIN = fileURLToPath(new URL('../../../bin/codi.mjs', import.meta.url));

export function jobDone(job: TrainJob): boolean {
  return existsSync(path.join(job.out, 'manifest.json'));
}

/** The job's arguments, with --resume added when an interrupted run of this job left a checkpoint. */
export function argsFor(job: TrainJob): string[] {
  const runDir = job.args[job.args.indexOf('--run-dir') + 1]!;
  const interrupted = !job.resume && existsSync(path.join(runDir, 'checkpoints', 'latest.json'));
  return interrupted ? [...job.args, '--resume'] : job.args;
}

function runCodi(args: readonly string[], logFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logFile, { flags: 'a' });
    log.write(`\n$ codi ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [CODI_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      log.end();
      resolve(code ?? 1);
    });
  });
}

/** Run the jobs in order; returns the wall seconds of each job that ran. Throws on the first failure. */
export async function runTrainJobs(jobs: readonly TrainJob[], log: (line: string) => void): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  for (const job of jobs) {
    if (jobDone(job)) continue;
    await mkdir(path.dirname(job.out), { recursive: true });
    const logFile = `${job.out}.log`;
    const t0 = Date.now();
    log(`train ${path.basename(job.out)} (seed ${job.seed}) → log ${logFile}`);
    const code = await runCodi(['train', ...argsFor(job)], logFile);
    if (code !== 0) throw new Error(`codi train for ${job.out} exited with ${code}; see ${logFile}`);
    times[path.basename(job.out)] = (Date.now() - t0) / 1000;
    log(`  done in ${times[path.basename(job.out)]!.toFixed(0)} s`);
  }
  return times;
}

/**
 * The clean data set: a restore data set built from the training photos, then its clean twin
 * (inputs = plain bicubic downscales of the targets). Both are kept; nothing is rebuilt when present.
 */
export async function ensureCleanData(dataRoot: string, count: number, log: (line: string) => void, source: 'photos' | 'synthetic' = 'photos'): Promise<string> {
  if (source === 'synthetic') return ensureSyntheticData(dataRoot, count, log);
  const degraded = path.join(dataRoot, `replication-restore-x4-${count}`);
  const clean = `${degraded}-clean`;
  if (existsSync(path.join(clean, 'items.jsonl'))) return clean;
  if (!existsSync(path.join(degraded, 'items.jsonl'))) {
    log(`building ${degraded} (${count} items)`);
    const code = await runCodi(['build-dataset', '--task', 'restore', '--out', degraded, '--size', '64', '--count', String(count), '--seed', '21', '--scale', '4'], `${degraded}.log`);
    if (code !== 0) throw new Error(`build-dataset exited with ${code}; see ${degraded}.log`);
  }
  log(`writing the clean twin ${clean}`);
  // written aside and renamed, so an interrupted write is never taken for a finished one
  const tmp = `${clean}.partial`;
  await rm(tmp, { recursive: true, force: true });
  await writeCleanTwin(degraded, tmp);
  await rename(tmp, clean);
  return clean;
}

async function ensureSyntheticData(dataRoot: string, count: number, log: (line: string) => void): Promise<string> {
  const dir = path.join(dataRoot, `replication-synthetic-x4-${count}`);
  if (existsSync(path.join(dir, 'items.jsonl'))) return dir;
  log(`writing the synthetic clean ×4 set ${dir} (${count} items)`);
  const tmp = `${dir}.partial`;
  await rm(tmp, { recursive: true, force: true });
  await writeSyntheticCleanX4Task({ dir: tmp, size: 64, count, valFraction: 0.1, seed: SYNTHETIC_SEEDS.train });
  await rename(tmp, dir);
  return dir;
}
