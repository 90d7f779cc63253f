import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { onBackend, relativeError, seededRandom, setUpWasmAndCpu } from './test-helpers.ts';

const [N, H, CIN, C, GROUPS] = [2, 8, 4, 8, 2];

beforeAll(setUpWasmAndCpu);

/** The initial values of the block's parameters and its input, shared by both backends. */
function initialValues(): Record<string, [number[], Float32Array]> {
  const rand = seededRandom(21);
  return {
    conv1: [[3, 3, CIN, C], rand(9 * CIN * C, 0.3)],
    conv2: [[3, 3, C, C], rand(9 * C * C, 0.2)],
    skip: [[1, 1, CIN, C], rand(CIN * C, 0.3)],
    down: [[3, 3, C, C], rand(9 * C * C, 0.2)],
    time: [[16, C], rand(16 * C, 0.3)],
    gamma: [[C], rand(C, 1)],
    beta: [[C], rand(C, 1)],
    x: [[N, H, H, CIN], rand(N * H * H * CIN)],
  };
}

/**
 * One UNet-style step with every op the project's network uses: 3×3 and 1×1 convs, GroupNorm from
 * tf ops, SiLU, a time embedding (sin/cos of a constant through a dense layer), a residual add,
 * avgPool and a strided conv down, nearest 2× up, concat, and an MSE loss.
 */
function blockLoss(v: Record<string, tf.Variable>): tf.Scalar {
  const groupNorm = (h: tf.Tensor4D): tf.Tensor4D => {
    const [n, hh, ww, c] = h.shape;
    const grouped = tf.reshape(h, [n, hh, ww, GROUPS, c / GROUPS]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const normed = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, 1e-5))), [n, hh, ww, c]);
    return tf.add(tf.mul(normed, v.gamma!), v.beta!);
  };
  const silu = (t: tf.Tensor4D): tf.Tensor4D => tf.mul(t, tf.sigmoid(t));
  const freqs = tf.linspace(0, 3, 8);
  const embedding = tf.reshape(tf.concat([tf.sin(freqs), tf.cos(freqs)]), [1, 16]);
  const x = v.x as tf.Tensor4D;
  let h = silu(groupNorm(tf.conv2d(x, v.conv1 as tf.Tensor4D, 1, 'same')));
  h = tf.add(h, tf.reshape(tf.matMul(embedding, v.time!), [1, 1, 1, C]));
  h = tf.conv2d(silu(groupNorm(h)), v.conv2 as tf.Tensor4D, 1, 'same');
  const residual = tf.add<tf.Tensor4D>(h, tf.conv2d(x, v.skip as tf.Tensor4D, 1, 'same'));
  const pooled = tf.avgPool(residual, 2, 2, 'valid');
  const strided = tf.conv2d(residual, v.down as tf.Tensor4D, 2, 'same');
  const up = tf.image.resizeNearestNeighbor(tf.add<tf.Tensor4D>(pooled, strided), [H, H]);
  return tf.mean(tf.square(tf.sub(tf.concat([up, residual], 3), 0.5)));
}

function lossAndGrads(): tf.Tensor[] {
  const values = initialValues();
  const names = Object.keys(values).sort();
  const vars: Record<string, tf.Variable> = {};
  for (const name of names) {
    const [shape, data] = values[name]!;
    vars[name] = tf.variable(tf.tensor(data, shape));
  }
  const { value, grads } = tf.variableGrads(() => blockLoss(vars), names.map((k) => vars[k]!));
  const out = [value, ...names.map((k) => grads[vars[k]!.name]!)];
  // Variables escape tidy; clones of the results stay in it and are read by onBackend.
  const copies = out.map((t) => t.clone());
  tf.dispose([...out, ...Object.values(vars)]);
  return copies;
}

describe('GroupNorm + SiLU residual block: wasm gradients vs cpu gradients', () => {
  it('agrees on the loss and every gradient', async () => {
    const reference = await onBackend('cpu', lossAndGrads);
    const actual = await onBackend('wasm', lossAndGrads);
    const names = ['loss', ...Object.keys(initialValues()).sort()];
    expect(actual.length).toBe(reference.length);
    for (let i = 0; i < names.length; i++) {
      expect(relativeError(actual[i]!, reference[i]!), names[i]).toBeLessThanOrEqual(1e-4);
    }
  });

  it('does not leak tensors or backend buffers across steps', async () => {
    await tf.setBackend('wasm');
    const counts = () => ({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() });
    tf.dispose(tf.tidy(lossAndGrads));
    const before = counts();
    for (let step = 0; step < 3; step++) tf.dispose(tf.tidy(lossAndGrads));
    expect(counts()).toEqual(before);
  });
});
