/**
 * How much of a photo's gradient energy sits at the finest scale: mean |Laplacian| over mean
 * |central difference| of its BT.601 luma. Blur, downscaling and JPEG smoothing take out the
 * finest scale first, so a damaged photo has a low ratio and a clean small photo a high one. The
 * Restore ×4 tool (a pack trained on damaged photos) uses it to tell the user when a photo looks
 * clean: on such photos the ×4 tool for clean photos measured better.
 */
import { luma601 } from './filters.ts';

/**
 * Threshold chosen on validation crops only (`build/restore/choose-clean-threshold.ts`: 64² inputs
 * of the val photos, the damaged ones against their clean twins): at or above it a photo looks clean.
 */
export const CLEAN_DETAIL_RATIO = 0.453;

/** The ratio for an RGB image [1, 3, H, W] in any affine range (the ratio does not depend on it). */
export function detailRatio(x: { data: Float32Array; shape: readonly number[] }): number {
  const [, C, H, W] = x.shape as [number, number, number, number];
  if (C !== 3) throw new RangeError(`detailRatio needs RGB, got ${C} channels`);
  if (H < 3 || W < 3) return 0;
  const n = H * W;
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = luma601(x.data[i] as number, x.data[n + i] as number, x.data[2 * n + i] as number);
  let lap = 0;
  let grad = 0;
  for (let y = 1; y < H - 1; y++) {
    for (let xx = 1; xx < W - 1; xx++) {
      const i = y * W + xx;
      const at = (d: number): number => g[i + d] as number;
      lap += Math.abs(at(-W - 1) - 2 * at(-W) + at(-W + 1) - 2 * at(-1) + 4 * at(0) - 2 * at(1) + at(W - 1) - 2 * at(W) + at(W + 1));
      grad += Math.abs(at(1) - at(-1)) + Math.abs(at(W) - at(-W));
    }
  }
  // a flat image has neither: call it clean (nothing there to restore)
  return grad === 0 ? Infinity : lap / grad;
}
