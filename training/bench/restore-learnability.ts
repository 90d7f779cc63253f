/**
 * Restoration learnability probe: how much can ANY small network, trained directly on the ground
 * truth with MSE (no diffusion, no distillation), gain over bicubic on the restore data set in a
 * session's CPU budget — and how much on its clean twin (same targets, inputs = plain bicubic
 * downscale, training/data/clean-twin.ts)?
 *
 * It answers whether a missed restoration target is the CoDi training's fault or the data's: if the
 * probe learns the clean twin quickly but gains nothing on the real-world degradation, the
 * degradation has removed what this much compute can learn to put back.
 *
 * The probe is a plain 3×3 conv stack over the condition in the packs' latent layout, predicting the
 * scaled residual k·(x − bicubic) like the restore pack. It is deliberately not the project's UNet:
 * the point is to take the diffusion model out of the question. Each data set trains in its own
 * process (the wasm backend is single-threaded), with the same seed.
 *
 *   npx tsx training/bench/restore-learnability.ts [--data datasets/restore-x4] [--steps 2000]
 *     [--eval-every 200] [--out bench/results/restore-learnability-<date>.md]   (npm run bench:restore-probe)
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeCleanTwin } from '../data/clean-twin.ts';
import { type LaneResult, type Probe, report, runLane } from './learnability-probe.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'datasets/restore-x4' },
    steps: { type: 'string', default: '2000' },
    'eval-every': { type: 'string', default: '200' },
    width: { type: 'string', default: '96' },
    layers: { type: 'string', default: '6' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string', default: '1e-3' },
    'residual-scale': { type: 'string', default: '4' },
    'max-train': { type: 'string', default: '3000' },
    'max-val': { type: 'string', default: '96' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: `bench/results/restore-learnability-${new Date().toISOString().slice(0, 10)}.md` },
    lane: { type: 'string' },
  },
});

const probe: Probe = {
  steps: Number(values.steps),
  evalEvery: Number(values['eval-every']),
  width: Number(values.width),
  layers: Number(values.layers),
  batch: Number(values.batch),
  lr: Number(values.lr),
  k: Number(values['residual-scale']),
  maxTrain: Number(values['max-train']),
  maxVal: Number(values['max-val']),
  seed: Number(values.seed),
};

/** Run one lane in a child process (one core each) and collect its result. */
function forkLane(dataDir: string): Promise<LaneResult> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const args = process.argv.slice(2).filter((_, i, a) => a[i] !== '--lane' && a[i - 1] !== '--lane' && a[i] !== '--out' && a[i - 1] !== '--out');
  const child = fork(fileURLToPath(import.meta.url), [...args, '--lane', dataDir], { execArgv: ['--import', tsx], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: LaneResult | undefined;
    child.on('message', (m) => (result = m as LaneResult));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`probe lane ${dataDir} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  if (values.lane) {
    const result = await runLane(values.lane, probe);
    process.send?.(result);
    return;
  }
  if (!existsSync(path.join(values.data, 'dataset.json'))) {
    // building it fetches photos and degrades thousands of crops: say how, rather than start it unasked
    process.stderr.write(
      `bench:restore-probe needs the restore data set ${values.data}, which is not built yet. Build it first with\n` +
        `  npx codi build-dataset --task restore --scale 4 --size 64 --count 6000 --seed 2 --out ${values.data}\n` +
        `(the command build/train-bundled.sh uses), or pass --data <folder> for another one.\n`,
    );
    process.exitCode = 1;
    return;
  }
  const twin = await mkdtemp(path.join(os.tmpdir(), 'codi-clean-twin-'));
  try {
    await writeCleanTwin(values.data, twin);
    const [degraded, clean] = await Promise.all([forkLane(values.data), forkLane(twin)]);
    clean.data = `${values.data} (clean twin)`;
    const md = report(probe, degraded, clean);
    process.stdout.write(md);
    await writeFile(values.out, md);
  } finally {
    await rm(twin, { recursive: true, force: true });
  }
}

await main();
