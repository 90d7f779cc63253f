import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, ResizeNearestNeighborGradAttrs, Tensor4D } from '@tensorflow/tfjs';
import { runWithTensors } from './run-ops.ts';

/**
 * Source row/column that nearest-neighbour resizing reads for output index `i`, the same mapping
 * the forward kernels use (TF semantics).
 */
export function nearestSource(i: number, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const aligned = alignCorners && outSize > 1;
  const ratio = (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
  const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
  const nearest = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  return halfPixelCenters ? Math.max(0, nearest) : nearest;
}

/**
 * ResizeNearestNeighborGrad. Why: the cpu backend's kernel offsets dy by the *input's* batch
 * stride, so every batch element after the first gets the wrong gradient (measured: batch 2,
 * 2×2 → 4×4 upsampling); the cpu backend is the trainer's last fallback and the tests' reference.
 * Integer upscaling (the UNet's 2× nearest upsampling) is a reshape and a sum over each f×g block,
 * which is exact for both pixel-centre conventions and cheap on every backend; other sizes
 * scatter-add dy along the forward mapping.
 */
export function resizeNearestNeighborGrad(args: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap }): Tensor4D {
  const { images, dy } = args.inputs;
  if (images === undefined || dy === undefined) throw new Error('ResizeNearestNeighborGrad: needs inputs images and dy');
  const { alignCorners, halfPixelCenters } = args.attrs as unknown as ResizeNearestNeighborGradAttrs & { halfPixelCenters?: boolean };
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const integerUpscale = outH % h === 0 && outW % w === 0 && (!alignCorners || (h === 1 && w === 1));
  return runWithTensors([dy], ([dyT]) => {
    if (integerUpscale) {
      return tf.sum(tf.reshape(dyT, [n, h, outH / h, w, outW / w, c]), [2, 4]);
    }
    const dyValues = dyT.dataSync();
    const dx = new Float32Array(n * h * w * c);
    const rows = Array.from({ length: outH }, (_, y) => nearestSource(y, h, outH, alignCorners, halfPixelCenters ?? false));
    const cols = Array.from({ length: outW }, (_, x) => nearestSource(x, w, outW, alignCorners, halfPixelCenters ?? false));
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < outH; y++) {
        for (let x = 0; x < outW; x++) {
          const src = ((b * outH + y) * outW + x) * c;
          // rows/cols have outH/outW entries and dy/dx were sized from the same shapes
          const dst = ((b * h + (rows[y] as number)) * w + (cols[x] as number)) * c;
          for (let ch = 0; ch < c; ch++) dx[dst + ch] = (dx[dst + ch] as number) + (dyValues[src + ch] as number);
        }
      }
    }
    return tf.tensor4d(dx, [n, h, w, c]);
  }) as Tensor4D;
}

export const resizeNearestNeighborGradConfig = (backendName: string): KernelConfig => ({
  kernelName: tf.ResizeNearestNeighborGrad,
  backendName,
  kernelFunc: resizeNearestNeighborGrad,
});
