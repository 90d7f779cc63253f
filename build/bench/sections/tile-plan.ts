/** The tile plan of electron/engine/pipelines/tiled.ts, recomputed for metrics (seam lines, overlap cost). */
import { planTiles } from '../../../core/tiling/plan.ts';
import { LATENT_ALIGN } from '../../../electron/engine/pipelines/tiled.ts';

/** Same rules as tiled.ts for a latent h×w (without its out-of-memory retry). */
export function enginePlan(h: number, w: number, tilePx: number, overlapPx: number, factor: number): ReturnType<typeof planTiles> {
  const size = Math.max(16, Math.floor(tilePx / factor / LATENT_ALIGN) * LATENT_ALIGN);
  const overlap = Math.max(LATENT_ALIGN, Math.round(overlapPx / factor / LATENT_ALIGN) * LATENT_ALIGN);
  return planTiles({ height: h, width: w, tile: size, overlap: Math.min(overlap, size - LATENT_ALIGN), align: LATENT_ALIGN });
}

