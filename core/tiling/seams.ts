/**
 * Seam metric: how much stronger the pixel-to-pixel jump is across tile borders than
 * elsewhere. ≈ 1 means invisible seams; a hard seam gives a large ratio.
 * The gradient loops read the plane inside their own bounds, hence `as number`.
 */
import type { F32Tensor } from '../tensor/ops.ts';
import { shape4 } from '../tensor/layout.ts';
import type { TilePlan } from './plan.ts';

/** Output coordinates where a tile starts or ends inside the (unpadded, scaled) image. */
export interface SeamLines {
  /** y such that the jump between rows y−1 and y crosses a tile border. */
  rows: number[];
  /** x such that the jump between columns x−1 and x crosses a tile border. */
  cols: number[];
}

export function seamLines(plan: TilePlan, scale = 1): SeamLines {
  const lines = (spans: TilePlan['ys'], n: number) => {
    const set = new Set<number>();
    spans.forEach((s, k) => {
      if (k > 0) set.add(s.start * scale);
      if (k < spans.length - 1) set.add((s.start + s.size) * scale);
    });
    return [...set].filter((v) => v > 0 && v < n).sort((a, b) => a - b);
  };
  return { rows: lines(plan.ys, plan.height * scale), cols: lines(plan.xs, plan.width * scale) };
}

/**
 * Mean |I(p) − I(p − 1)| across the seam lines divided by the same mean over all other
 * neighbouring pairs (horizontal and vertical pooled, all channels and batch items).
 * Returns 1 when there are no seams or the image is flat everywhere.
 */
export function seamScore(img: F32Tensor, lines: SeamLines): number {
  const [B, C, H, W] = shape4(img);
  const isCol = new Uint8Array(W);
  const isRow = new Uint8Array(H);
  for (const x of lines.cols) if (x > 0 && x < W) isCol[x] = 1;
  for (const y of lines.rows) if (y > 0 && y < H) isRow[y] = 1;
  let seamSum = 0;
  let seamN = 0;
  let restSum = 0;
  let restN = 0;
  const d = img.data;
  for (let p = 0; p < B * C; p++) {
    const base = p * H * W;
    for (let y = 0; y < H; y++) {
      const row = base + y * W;
      for (let x = 1; x < W; x++) {
        const g = Math.abs((d[row + x] as number) - (d[row + x - 1] as number));
        if (isCol[x]) {
          seamSum += g;
          seamN++;
        } else {
          restSum += g;
          restN++;
        }
      }
      if (y > 0) {
        const prev = row - W;
        const seam = isRow[y] === 1;
        for (let x = 0; x < W; x++) {
          const g = Math.abs((d[row + x] as number) - (d[prev + x] as number));
          if (seam) {
            seamSum += g;
            seamN++;
          } else {
            restSum += g;
            restN++;
          }
        }
      }
    }
  }
  if (seamN === 0) return 1;
  const seamMean = seamSum / seamN;
  const restMean = restN ? restSum / restN : 0;
  if (restMean === 0) return seamMean === 0 ? 1 : Infinity;
  return seamMean / restMean;
}
