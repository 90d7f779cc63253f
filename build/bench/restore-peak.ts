/**
 * `npx tsx build/bench/restore-peak.ts [--mp 2] [--threads N] [--seed 7]`: one restore of a
 * synthetic photo of `mp` input megapixels through the engine process (the app's path), printing
 * the wall time, the engine's peak RSS (VmHWM) and a SHA-256 of the result's pixels, so a memory
 * change can be checked for bit-identical output on the same input. One engine per run: VmHWM
 * is the process's peak since it started.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultIntraOpThreads } from '../../electron/engine/ort.ts';
import { startBenchEngine, syntheticPng } from './engine-client.ts';
import { procMemory } from './stats.ts';

const { values } = parseArgs({ options: { mp: { type: 'string', default: '2' }, threads: { type: 'string' }, seed: { type: 'string', default: '7' }, pack: { type: 'string', default: 'codi-restore-x4' } } });
const mp = Number(values.mp);
const seed = Number(values.seed);
const threads = values.threads ? Number(values.threads) : defaultIntraOpThreads(os.availableParallelism());
// a 4:3 input of `mp` megapixels
const inW = Math.round(Math.sqrt((mp * 1e6 * 4) / 3));
const inH = Math.round((inW * 3) / 4);
const packsDir = fileURLToPath(new URL('../../native-models', import.meta.url));
const tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-restore-peak-'));
const userDir = path.join(tmp, 'user');
await mkdir(userDir, { recursive: true });
const engine = await startBenchEngine(packsDir, threads, userDir);
try {
  const pid = engine.pid();
  const img = await engine.openPng(await syntheticPng(inW, inH, seed + 1), 'photo.png');
  const before = pid ? procMemory(pid) : null;
  const t0 = performance.now();
  const done = await engine.runJob({ tool: 'restore', pack: values.pack, imageId: img.imageId, scale: 4, seed });
  const wallS = (performance.now() - t0) / 1000;
  const afterJob = pid ? procMemory(pid) : null;
  const px = await engine.pixels(done.resultImageId);
  const afterPixels = pid ? procMemory(pid) : null;
  const sha = createHash('sha256').update(px.rgba).digest('hex');
  const MiB = 2 ** 20;
  console.log(JSON.stringify({
    input: `${inW}×${inH}`,
    output: `${px.width}×${px.height}`,
    threads,
    wallS: Math.round(wallS * 10) / 10,
    rssBeforeMiB: Math.round((before?.rss ?? NaN) / MiB),
    peakAfterJobMiB: Math.round((afterJob?.peak ?? NaN) / MiB),
    peakAfterPixelsMiB: Math.round((afterPixels?.peak ?? NaN) / MiB),
    sha256: sha,
    notes: done.notes,
    load: os.loadavg().map((l) => Math.round(l * 10) / 10),
  }));
} finally {
  await engine.stop();
  await rm(tmp, { recursive: true, force: true });
}
