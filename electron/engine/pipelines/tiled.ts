/**
 * Tiled sampling in latent space: the condition and one seeded noise field cover the whole
 * (padded) image; each tile is sampled on its window of both and blended back with linear
 * feathering in the overlaps. If ONNX Runtime runs out of memory the whole pass restarts with
 * half the tile size (down to a floor) and says so in the job notes.
 */
import { throwIfAborted } from '../../../core/samplers/common.ts';
import { crop, roundUp } from '../../../core/tensor/layout.ts';
import { TileAccumulator } from '../../../core/tiling/blend.ts';
import { scaledStart, startTemperature } from '../../../core/samplers/start.ts';
import { planTiles } from '../../../core/tiling/plan.ts';
import type { TileRect } from '../../../core/tiling/plan.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import type { JobContext } from '../jobs/queue.ts';
import { isAllocationError } from '../ort.ts';
import type { PackModel } from '../packs/registry.ts';
import { NoiseRows, sampleLatent, startLatent } from './denoise.ts';

/** Latent size granularity: the graphs need h, w multiples of 4 in latent space. */
export const LATENT_ALIGN = 4;
const MIN_TILE_LATENT = 16;

export interface TiledOptions {
  model: PackModel;
  /** Condition at latent resolution [1, Cc, h, w] (h, w multiples of LATENT_ALIGN). */
  cond: F32Tensor;
  text: Float32Array | null;
  steps: number;
  seed: number;
  /** The second draw of an antithetic pair: z_T is the negation of the seed's (core/samplers/start.ts drawOf). */
  negate?: boolean;
  ctx: JobContext;
  /** Cap on the tile side in pixels (engine config); the pack's tile size otherwise. */
  maxTilePx?: number;
  /**
   * The part of the latent to return, from the top-left (default: all of it). It must pad back
   * to the condition's size, so the tile plan is the same; the blend writes only these rows and
   * columns, sparing a copy of the whole output to crop it afterwards.
   */
  keep?: { height: number; width: number };
  notes: string[];
}

/** Sample the latent of the whole image, tile by tile; returns [1, 48, h, w] (or `keep`'s size). */
export async function sampleTiled(o: TiledOptions): Promise<F32Tensor> {
  const m = o.model.manifest;
  const latentChannels = m.latent.kind === 'pixel-unshuffle' ? 3 * m.latent.factor ** 2 : m.latent.channels;
  const factor = m.latent.factor;
  const capPx = Math.min(m.tile.size, o.maxTilePx ?? Number.POSITIVE_INFINITY);
  let size = Math.max(MIN_TILE_LATENT, Math.floor(capPx / factor / LATENT_ALIGN) * LATENT_ALIGN);
  const overlap = Math.max(LATENT_ALIGN, Math.round(m.tile.overlap / factor / LATENT_ALIGN) * LATENT_ALIGN);
  for (;;) {
    try {
      return await sampleWithTileSize(o, latentChannels, size, overlap);
    } catch (err) {
      if (!isAllocationError(err) || size <= MIN_TILE_LATENT) throw err;
      size = Math.max(MIN_TILE_LATENT, Math.floor(size / 2 / LATENT_ALIGN) * LATENT_ALIGN);
      const note = `ran out of memory; retried with smaller tiles (${size * factor} px)`;
      o.notes.push(note);
      o.ctx.progress({ stage: 'retrying', message: note });
    }
  }
}

async function sampleWithTileSize(o: TiledOptions, C: number, size: number, overlap: number): Promise<F32Tensor> {
  const [, , h, w] = o.cond.shape as [number, number, number, number];
  const keep = o.keep ?? { height: h, width: w };
  if (roundUp(keep.height, LATENT_ALIGN) !== h || roundUp(keep.width, LATENT_ALIGN) !== w) {
    throw new RangeError(`keep ${keep.height}×${keep.width} does not pad to the condition's ${h}×${w}`);
  }
  const plan = planTiles({ height: keep.height, width: keep.width, tile: size, overlap: Math.min(overlap, size - LATENT_ALIGN), align: LATENT_ALIGN });
  const acc = new TileAccumulator(plan, C);
  // z_T is one seeded field over the whole latent (tiles agree in overlaps), made a tile row at a
  // time when there are several (one row: the field itself, without positioning a generator per
  // plane), scaled by the pack's start temperature (core/samplers/start.ts): zeros at τ = 0
  const tau = startTemperature(o.model.manifest.sampler);
  const noise = plan.ys.length > 1 && tau !== 0 ? new NoiseRows([1, C, h, w], o.seed) : null;
  let bandRow = -1;
  let rows: F32Tensor = { data: new Float32Array(0), shape: [1, C, 0, w] };
  const M = plan.tiles.length;
  for (let ti = 0; ti < M; ti++) {
    throwIfAborted(o.ctx.signal);
    const t = plan.tiles[ti] as TileRect;
    const whole = M === 1 && t.h === h && t.w === w && keep.height === h && keep.width === w;
    if (t.row !== bandRow) {
      if (noise) {
        // NoiseRows keeps its band to share rows with the next one, so a cooled or negated band is a copy
        const band = noise.rows(t.y, t.h);
        rows = tau === 1 && !o.negate ? band : { data: scaledStart(band.data, tau, o.negate === true), shape: band.shape };
      } else {
        // one tile row: the whole field; several at τ = 0: this band's zeros
        rows = startLatent(tau, [1, C, plan.ys.length > 1 ? t.h : h, w], o.seed, o.negate === true);
      }
      bandRow = t.row;
    }
    const out = await sampleLatent(
      o.model,
      whole ? o.cond : crop(o.cond, t.y, t.x, t.h, t.w),
      o.text,
      whole ? rows : crop(rows, 0, t.x, t.h, t.w),
      {
        steps: o.steps,
        seed: o.seed + ti,
        signal: o.ctx.signal,
        onStep: (i, n) =>
          o.ctx.progress({
            stage: 'denoising',
            step: { i: i + 1, n },
            ...(M > 1 ? { tile: { i: ti + 1, m: M } } : {}),
            fraction: (ti * n + i + 1) / (M * n),
          }),
      },
    );
    if (whole) return out;
    acc.add(t, out);
  }
  return acc.result();
}
