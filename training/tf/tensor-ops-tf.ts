/**
 * TF.js implementation of core's TensorOps, so the CoDi objective differentiates through the
 * very same ddimUpdate / conversion code that the engine samples with (docs/method.md §11).
 * Every op returns a new tensor; gradients flow through all of them inside tf.variableGrads.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorOps } from '../../core/tensor/ops.ts';
import type { Rng } from '../../core/rng.ts';

export const tfOps: TensorOps<tf.Tensor> = {
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  scale: (x, s) => tf.mul(x, s),
  axpby: (a, x, b, y) => tf.tidy(() => tf.add(tf.mul(x, a), tf.mul(y, b))),
  // Drawn on the host from the project RNG (not tf.randomNormal) so the stream is the one that
  // checkpoints serialise and that the Float32Array implementation draws for the same state.
  randnLike: (x, rng: Rng) => tf.tensor(rng.fillGaussian(new Float32Array(x.size)), x.shape, 'float32'),
  zerosLike: (x) => tf.zerosLike(x),
  clone: (x) => tf.clone(x),
  dispose: (x) => x.dispose(),
};
