/**
 * Tile plans for running a fixed-receptive-field model over an image of any size.
 * The image is first padded (bottom/right, reflect) to a multiple of `align` (latent factor ×
 * 2^levels), so every tile is a valid model input and every tile origin lies on the same
 * latent grid. Along an axis longer than a tile, tiles step by the largest aligned stride that
 * keeps at least `overlap` pixels of overlap, and the last tile is shifted inward to end at the
 * border (never padded); an axis no longer than a tile gets one tile of the padded size.
 */
import { roundUp } from '../tensor/layout.ts';

/** One axis interval of a plan. */
export interface AxisSpan {
  start: number;
  size: number;
}

/** A tile in padded-input pixel coordinates; `row`/`col` index the plan's `ys`/`xs`. */
export interface TileRect {
  y: number;
  x: number;
  h: number;
  w: number;
  row: number;
  col: number;
}

export interface TilePlanOptions {
  height: number;
  width: number;
  /** Tile edge in input pixels (multiple of `align`). */
  tile: number;
  /** Minimum overlap between neighbouring tiles in input pixels (< tile). */
  overlap: number;
  /** Alignment of tile sizes and origins (latent factor × 2^levels). */
  align: number;
}

export interface TilePlan extends TilePlanOptions {
  /** Size the input must be padded to (bottom/right) before tiles are cut. */
  paddedHeight: number;
  paddedWidth: number;
  ys: AxisSpan[];
  xs: AxisSpan[];
  /** Row-major: tiles[row · xs.length + col]. */
  tiles: TileRect[];
}

function axisSpans(n: number, tile: number, overlap: number, align: number): AxisSpan[] {
  const padded = roundUp(n, align);
  if (padded <= tile) return [{ start: 0, size: padded }];
  const stride = Math.max(align, Math.floor((tile - overlap) / align) * align);
  const spans: AxisSpan[] = [];
  for (let s = 0; s + tile < padded; s += stride) spans.push({ start: s, size: tile });
  spans.push({ start: padded - tile, size: tile });
  return spans;
}

export function planTiles(options: TilePlanOptions): TilePlan {
  const { height, width, tile, overlap, align } = options;
  for (const [k, v] of Object.entries({ height, width, tile, align })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`planTiles: ${k} must be a positive integer, got ${v}`);
  }
  if (tile % align) throw new RangeError(`planTiles: tile ${tile} is not a multiple of align ${align}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= tile) throw new RangeError(`planTiles: overlap must be in [0, ${tile})`);
  const ys = axisSpans(height, tile, overlap, align);
  const xs = axisSpans(width, tile, overlap, align);
  const tiles: TileRect[] = [];
  ys.forEach((sy, row) => xs.forEach((sx, col) => tiles.push({ y: sy.start, x: sx.start, h: sy.size, w: sx.size, row, col })));
  return { ...options, paddedHeight: roundUp(height, align), paddedWidth: roundUp(width, align), ys, xs, tiles };
}
