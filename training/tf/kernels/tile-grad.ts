import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor, TileAttrs } from '@tensorflow/tfjs';

/**
 * Gradient of Tile for any rank. Why: tfjs-core's gradient throws for rank > 4 ("not implemented
 * for rank-6 tensors"), which rules out the reshape-to-rank-6-and-tile idiom for nearest
 * upsampling, and it builds the sum from one slice per repetition. Tiling x [d0..dk] by reps
 * [r0..rk] lays dy out as [r0, d0, r1, d1, …]; the gradient sums over the r axes.
 */
export const tileGradConfig: GradConfig = {
  kernelName: tf.Tile,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved;
    const grad = Array.isArray(dy) ? dy[0] : dy;
    if (x === undefined || grad === undefined) throw new Error('Tile gradient: missing saved input or dy');
    const { reps } = attrs as unknown as TileAttrs;
    return {
      x: () => {
        const interleaved = x.shape.flatMap((d, i) => [reps[i] ?? 1, d]);
        const repAxes = x.shape.map((_, i) => 2 * i);
        return tf.sum(tf.reshape(grad, interleaved), repAxes);
      },
    };
  },
};
