/**
 * Bench section 8, stability: the engine process's RSS over many jobs with varying image sizes (restore and,
 * when installed, inpaint), results released as the app does. Unbounded growth shows as RSS
 * still climbing over the second half of the run.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { restoreRecord } from '../bench-packs.ts';
import { startBenchEngine, syntheticPng } from '../engine-client.ts';
import type { Section } from '../section.ts';
import { procMemory } from '../stats.ts';

const MiB = 2 ** 20;

export const stability: Section = async (ctx) => {
  const jobs = ctx.quick ? 20 : 200;
  const restore = restoreRecord(ctx.packs);
  const inpaint = ctx.packs.records.find((r) => r.status === 'ok' && r.manifest?.task === 'inpaint');
  if (!restore?.manifest) throw new Error('no restore pack');
  const s = restore.manifest.upscale;
  const userDir = path.join(ctx.tmpDir, 'user-packs-stability');
  await mkdir(userDir, { recursive: true });
  const engine = await startBenchEngine(ctx.packsDir, ctx.threads, userDir);
  const sides = ctx.quick ? [24, 40, 56, 32] : [24, 40, 64, 48, 72, 32];
  try {
    const pid = engine.pid();
    if (!pid) throw new Error('engine pid unknown');
    const images: { imageId: string; side: number }[] = [];
    for (const side of sides) images.push({ ...(await engine.openPng(await syntheticPng(side, side, side), `s${side}.png`)), side });
    const rss: number[] = [];
    const t0 = performance.now();
    for (let j = 0; j < jobs; j++) {
      const im = images[j % images.length]!;
      const useInpaint = inpaint && j % 3 === 2;
      const req = useInpaint
        ? (() => {
            const side = im.side;
            const mask = new Uint8Array(side * side);
            for (let y = side >> 2; y < (3 * side) >> 2; y++) for (let x = side >> 2; x < (3 * side) >> 2; x++) mask[y * side + x] = 255;
            return { tool: 'inpaint' as const, pack: inpaint.name, imageId: im.imageId, mask: { width: side, height: side, data: mask }, seed: j };
          })()
        : { tool: 'restore' as const, pack: restore.name, imageId: im.imageId, scale: s, seed: j };
      const done = await engine.runJob(req);
      await engine.release(done.resultImageId);
      rss.push(procMemory(pid)?.rss ?? NaN);
    }
    const wall = (performance.now() - t0) / 1000;
    const at = (k: number): number => rss[Math.min(rss.length, k) - 1]!;
    const half = Math.floor(jobs / 2);
    const growth = (at(jobs) - at(half)) / at(half);
    const marks = [10, half, Math.floor((3 * jobs) / 4), jobs].filter((k, i, a) => k <= jobs && a.indexOf(k) === i);
    return {
      title: '8. Stability',
      goal: { text: `no unbounded RSS growth over ${jobs} jobs (second half grows < 5 %)`, met: growth < 0.05, measured: `RSS ${(at(half) / MiB).toFixed(0)} → ${(at(jobs) / MiB).toFixed(0)} MiB over jobs ${half}–${jobs} (${(growth * 100).toFixed(1)} %), max ${(Math.max(...rss) / MiB).toFixed(0)} MiB` },
      rows: marks.map((k) => ({ afterJobs: k, engineRssMiB: Math.round(at(k) / MiB) })),
      notes: [`${jobs} jobs (${inpaint ? 'restore and inpaint' : 'restore'}), inputs ${sides.join(', ')} px square, results released; ${wall.toFixed(0)} s in all.`],
    };
  } finally {
    await engine.stop();
  }
};
