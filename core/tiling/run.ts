/** Run a per-tile function over a whole image: pad → cut tiles → call → blend → crop. */
import type { F32Tensor } from '../tensor/ops.ts';
import { crop, padToMultiple, shape4 } from '../tensor/layout.ts';
import type { AbortSignalLike } from '../samplers/common.ts';
import { throwIfAborted } from '../samplers/common.ts';
import { planTiles } from './plan.ts';
import type { TilePlan, TileRect } from './plan.ts';
import { TileAccumulator } from './blend.ts';

export interface TiledRunOptions {
  tile: number;
  overlap: number;
  align: number;
  /** Output pixels per input pixel (×2/×4 models); default 1. */
  scale?: number;
  /** Channels of each tile output; default = input channels. */
  outChannels?: number;
  /** Checked before every tile. */
  signal?: AbortSignalLike;
  /** Called after each tile. */
  onTile?(done: number, total: number, tile: TileRect): void;
}

/**
 * Apply `fn` to every tile of `image` ([1, C, H, W]) and blend the outputs. `fn` gets the tile
 * cut from the reflect-padded image and must return [1, outChannels, h·scale, w·scale].
 */
export async function mapTiles(
  image: F32Tensor,
  options: TiledRunOptions,
  fn: (tile: F32Tensor, rect: TileRect, plan: TilePlan) => Promise<F32Tensor> | F32Tensor,
): Promise<F32Tensor> {
  const [B, C, H, W] = shape4(image);
  if (B !== 1) throw new RangeError('mapTiles works on one image at a time (batch 1)');
  const plan = planTiles({ height: H, width: W, tile: options.tile, overlap: options.overlap, align: options.align });
  const padded = padToMultiple(image, options.align, 'reflect').tensor;
  const acc = new TileAccumulator(plan, options.outChannels ?? C, options.scale ?? 1);
  let done = 0;
  for (const rect of plan.tiles) {
    throwIfAborted(options.signal);
    const out = await fn(crop(padded, rect.y, rect.x, rect.h, rect.w), rect, plan);
    acc.add(rect, out);
    options.onTile?.(++done, plan.tiles.length, rect);
  }
  return acc.result();
}
