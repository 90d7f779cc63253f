import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { tfOps } from './tensor-ops-tf.ts';
import { f32Ops, f32Tensor } from '../../core/tensor/ops.ts';
import { Rng } from '../../core/rng.ts';
import { ddimUpdate } from '../../core/math/parameterization.ts';
import { defaultSchedule } from '../../core/math/schedule.ts';

describe('tfOps', () => {
  it('agrees with the Float32Array implementation on a DDIM step with boundary scaling', () => {
    const sched = defaultSchedule();
    const rng = new Rng(7);
    const z = f32Tensor([1, 3, 2, 2], rng.fillGaussian(new Float32Array(12)));
    const v = f32Tensor([1, 3, 2, 2], rng.fillGaussian(new Float32Array(12)));
    const want = ddimUpdate(f32Ops, z, v, 460, 200, sched, { boundary: 'lcm' }).zS.data;
    const got = ddimUpdate(tfOps, tf.tensor(z.data, z.shape), tf.tensor(v.data, v.shape), 460, 200, sched, { boundary: 'lcm' }).zS.dataSync();
    Array.from(got).forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 5));
  });

  it('draws the same normals as the Float32Array ops for the same RNG state', () => {
    const a = tfOps.randnLike(tf.zeros([2, 5]), new Rng(3)).dataSync();
    const b = f32Ops.randnLike(f32Tensor([2, 5]), new Rng(3)).data;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('passes gradients through axpby and a disposed intermediate', () => {
    const w = tf.variable(tf.tensor1d([2]));
    const { grads } = tf.variableGrads(() => {
      const y = tfOps.scale(w, 3);
      const out = tfOps.axpby(0.5, y, 1, w);
      tfOps.dispose(y);
      return out.sum<tf.Scalar>();
    }, [w]);
    expect(grads[w.name]!.dataSync()[0]).toBeCloseTo(2.5, 6);
  });
});
