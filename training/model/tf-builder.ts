/**
 * NnBuilder on TensorFlow.js: executes the network eagerly in NHWC, reading weights from a
 * ParamSet of tf.Variables (so tf.variableGrads sees them). Ops are chosen to have gradients
 * on every backend: upsampling is a broadcast multiply (no ResizeNearestNeighborGrad needed).
 */
import * as tf from '@tensorflow/tfjs';
import type { Conv2dSpec, DenseSpec, NnBuilder, ParamInit, ParamSpec } from '../../core/nn/builder.ts';
import { conv2dParams, denseParams, groupNormParams, sameShape, timestepFrequencies } from '../../core/nn/layers.ts';

/** Trainable parameters by name (names as declared by core/nn). */
export type ParamSet = Map<string, tf.Variable>;

export class TfBuilder implements NnBuilder<tf.Tensor> {
  constructor(private readonly params: ParamSet) {}

  private get(spec: ParamSpec): tf.Variable {
    const v = this.params.get(spec.name);
    if (!v) throw new Error(`missing parameter ${spec.name}`);
    if (!sameShape(v.shape, spec.shape)) throw new Error(`parameter ${spec.name} has shape [${v.shape}], expected [${spec.shape}]`);
    return v;
  }

  private getAll(specs: ParamSpec[]): tf.Variable[] {
    return specs.map((s) => this.get(s));
  }

  param(name: string, shape: number[], init: ParamInit): tf.Tensor {
    return this.get({ name, shape, init });
  }

  conv2d(x: tf.Tensor, name: string, spec: Conv2dSpec): tf.Tensor {
    const [w, b] = this.getAll(conv2dParams(name, spec));
    // 'same' in TF.js pads the extra row/column at the end for stride 2, as the ONNX export does.
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, spec.stride, 'same');
    return tf.add(y, b!);
  }

  groupNorm(x: tf.Tensor, name: string, channels: number, groups: number, eps: number): tf.Tensor {
    const [gamma, beta] = this.getAll(groupNormParams(name, channels));
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const g = tf.reshape(x, [n, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    const normed = tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(tf.reshape(normed, [n, h, w, c]), gamma!), beta!);
  }

  silu(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, tf.sigmoid(x));
  }

  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.add(a, b);
  }

  addPerChannel(x: tf.Tensor, v: tf.Tensor): tf.Tensor {
    const [n, c] = v.shape as [number, number];
    return tf.add(x, tf.reshape(v, [n, 1, 1, c]));
  }

  mulPerChannel(x: tf.Tensor, v: tf.Tensor): tf.Tensor {
    const [n, c] = v.shape as [number, number];
    return tf.mul(x, tf.reshape(v, [n, 1, 1, c]));
  }

  scale(x: tf.Tensor, s: number): tf.Tensor {
    return tf.mul(x, s);
  }

  mixLevel(a: tf.Tensor, b: tf.Tensor, mu: tf.Tensor, level: number): tf.Tensor {
    const m = tf.slice(mu, [level], [1]);
    return tf.add(a, tf.mul(m, tf.sub(b, a)));
  }

  avgPool2(x: tf.Tensor): tf.Tensor {
    return tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid');
  }

  upsampleNearest2(x: tf.Tensor): tf.Tensor {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    // A broadcasting multiply by ones keeps the op rank 5 (TF.js's Tile/BroadcastTo gradient stops at rank 4);
    // its gradient is a plain sum over the copied axes.
    const copies = tf.mul(tf.reshape(x, [n * h, 1, w, 1, c]), tf.ones([1, 2, 1, 2, 1]));
    return tf.reshape(copies, [n, h * 2, w * 2, c]);
  }

  concatChannels(xs: tf.Tensor[]): tf.Tensor {
    return tf.concat(xs, 3);
  }

  dense(x: tf.Tensor, name: string, spec: DenseSpec): tf.Tensor {
    const [w, b] = this.getAll(denseParams(name, spec));
    return tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b!);
  }

  timestepEmbedding(t: tf.Tensor, dim: number): tf.Tensor {
    const freqs = tf.tensor2d(timestepFrequencies(dim), [1, dim / 2]);
    const arg = tf.mul(tf.reshape(t, [-1, 1]), freqs);
    return tf.concat([tf.cos(arg), tf.sin(arg)], 1);
  }

  attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, channels: number): tf.Tensor {
    const [n, h, w, c] = q.shape as [number, number, number, number];
    const flat = (y: tf.Tensor) => tf.reshape<tf.Rank.R3>(y, [n, h * w, c]);
    const scores = tf.mul(tf.matMul(flat(q), flat(k), false, true), 1 / Math.sqrt(channels));
    return tf.reshape(tf.matMul(tf.softmax(scores), flat(v)), [n, h, w, c]);
  }
}
