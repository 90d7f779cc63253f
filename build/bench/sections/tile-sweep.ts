/**
 * Tile-size sweep (part of bench section 5): the engine's tiled sampler (electron/engine/pipelines/tiled.ts)
 * on one restore output with the pack's tile size and larger ones, in process. Shows what the
 * tile size written in the manifest costs: time per output megapixel, planned overlap
 * overhead, seam score, and PSNR against the untiled (one tile) result.
 */
import { restoreCondition } from '../../../core/conditions.ts';
import { pixelShuffle } from '../../../core/tensor/layout.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import { seamLines, seamScore } from '../../../core/tiling/seams.ts';
import type { JobContext } from '../../../electron/engine/jobs/queue.ts';
import { sampleTiled } from '../../../electron/engine/pipelines/tiled.ts';
import type { PackModel } from '../../../electron/engine/packs/registry.ts';
import { modelToPlanar, planarToModel } from '../../eval/convert.ts';
import { psnr } from '../../eval/metrics.ts';
import type { BenchContext } from '../section.ts';
import { round, timeIt } from '../stats.ts';
import { restoreInputs } from './heldout-inputs.ts';
import { enginePlan } from './tile-plan.ts';

export async function tileSweep(ctx: BenchContext, model: PackModel, outSide: number): Promise<Record<string, string | number>[]> {
  const m = model.manifest;
  const s = m.upscale;
  const r = m.latent.factor;
  const input = (await restoreInputs(s, 1, outSide)).pairs[0]!;
  const cond = restoreCondition(planarToModel(input.lr), outSide, outSide, r);
  const job: JobContext = { jobId: 'bench', signal: new AbortController().signal, progress: () => {} };
  const sizes = [...new Set([m.tile.size, 128, 256, outSide])].filter((t) => t <= outSide).sort((a, b) => a - b);
  const runOnce = (tilePx: number): Promise<F32Tensor> => {
    const tiled = { ...model, manifest: { ...m, tile: { size: tilePx, overlap: m.tile.overlap } } };
    return sampleTiled({ model: tiled, cond, text: null, steps: m.sampler.steps, seed: ctx.seed, ctx: job, notes: [] });
  };
  const untiled = modelToPlanar(pixelShuffle(await runOnce(outSide), r));
  const rows: Record<string, string | number>[] = [];
  for (const tilePx of sizes) {
    const t = await timeIt(() => runOnce(tilePx), { runs: ctx.runs });
    const latent = await runOnce(tilePx);
    const img = pixelShuffle(latent, r);
    const plan = enginePlan(outSide / r, outSide / r, tilePx, m.tile.overlap, r);
    const planned = plan.tiles.reduce((a, x) => a + x.h * x.w, 0) / (outSide / r) ** 2;
    rows.push({
      tilePx: tilePx === m.tile.size ? `${tilePx} (manifest)` : tilePx,
      overlapPx: plan.overlap * r,
      tiles: plan.tiles.length,
      plannedOverhead: `${planned.toFixed(2)}×`,
      medianMs: round(t.medianMs, 0),
      msPerMegapixel: round(t.medianMs / ((outSide * outSide) / 1e6), 0),
      seamScore: round(seamScore(img, seamLines(plan, r)), 3),
      psnrVsUntiled: tilePx === outSide ? '—' : round(psnr(modelToPlanar(img), untiled)),
    });
  }
  return rows;
}
