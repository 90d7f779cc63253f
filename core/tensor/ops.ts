/**
 * The minimal tensor algebra that the samplers (core/samplers) and the training objectives
 * are written against, so the same maths runs on Float32Arrays (inference, tests) and on
 * TF.js tensors (training/). Every method returns a NEW tensor and never mutates its inputs;
 * callers release what they created with {@link TensorOps.dispose}.
 *
 * The Float32Array loops read inside their own bounds (shapes checked first), so element reads
 * are cast `as number`.
 */
import type { Rng } from '../rng.ts';

export interface TensorOps<T> {
  /** a + b, elementwise; shapes must match. */
  add(a: T, b: T): T;
  /** a − b, elementwise; shapes must match. */
  sub(a: T, b: T): T;
  /** a · b, elementwise; shapes must match. */
  mul(a: T, b: T): T;
  /** s · x for a scalar s. */
  scale(x: T, s: number): T;
  /** a·x + b·y for scalars a, b (the workhorse of every sampler update). */
  axpby(a: number, x: T, b: number, y: T): T;
  /** A tensor of x's shape filled with N(0, 1) drawn from `rng` (deterministic given its state). */
  randnLike(x: T, rng: Rng): T;
  /** A tensor of x's shape filled with zeros. */
  zerosLike(x: T): T;
  /** An independent copy of x. */
  clone(x: T): T;
  /** Release x's memory (TF.js: tensor.dispose(); Float32Array: no-op). */
  dispose(x: T): void;
}

/** A dense float32 tensor, row-major (NCHW for images), with its shape carried alongside. */
export interface F32Tensor {
  data: Float32Array;
  shape: number[];
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Create a tensor (zeros unless `data` is given; `data` is used without copying). */
export function f32Tensor(shape: readonly number[], data?: Float32Array): F32Tensor {
  const n = numel(shape);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`bad shape [${shape.join(', ')}]`);
  }
  if (data && data.length !== n) throw new RangeError(`data length ${data.length} does not match shape [${shape.join(', ')}]`);
  return { data: data ?? new Float32Array(n), shape: [...shape] };
}

function sameShape(a: F32Tensor, b: F32Tensor, op: string): void {
  const sa = a.shape;
  const sb = b.shape;
  if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i]) || a.data.length !== b.data.length) {
    throw new RangeError(`${op}: shape mismatch [${sa.join(', ')}] vs [${sb.join(', ')}]`);
  }
}

/** Float32Array implementation of {@link TensorOps}. */
export const f32Ops: TensorOps<F32Tensor> = {
  add(a, b) {
    sameShape(a, b, 'add');
    const out = new Float32Array(a.data.length);
    const x = a.data;
    const y = b.data;
    for (let i = 0; i < out.length; i++) out[i] = (x[i] as number) + (y[i] as number);
    return { data: out, shape: [...a.shape] };
  },
  sub(a, b) {
    sameShape(a, b, 'sub');
    const out = new Float32Array(a.data.length);
    const x = a.data;
    const y = b.data;
    for (let i = 0; i < out.length; i++) out[i] = (x[i] as number) - (y[i] as number);
    return { data: out, shape: [...a.shape] };
  },
  mul(a, b) {
    sameShape(a, b, 'mul');
    const out = new Float32Array(a.data.length);
    const x = a.data;
    const y = b.data;
    for (let i = 0; i < out.length; i++) out[i] = (x[i] as number) * (y[i] as number);
    return { data: out, shape: [...a.shape] };
  },
  scale(x, s) {
    const out = new Float32Array(x.data.length);
    const d = x.data;
    for (let i = 0; i < out.length; i++) out[i] = s * (d[i] as number);
    return { data: out, shape: [...x.shape] };
  },
  axpby(a, x, b, y) {
    sameShape(x, y, 'axpby');
    const out = new Float32Array(x.data.length);
    const xd = x.data;
    const yd = y.data;
    for (let i = 0; i < out.length; i++) out[i] = a * (xd[i] as number) + b * (yd[i] as number);
    return { data: out, shape: [...x.shape] };
  },
  randnLike(x, rng) {
    return { data: rng.fillGaussian(new Float32Array(x.data.length)), shape: [...x.shape] };
  },
  zerosLike(x) {
    return { data: new Float32Array(x.data.length), shape: [...x.shape] };
  },
  clone(x) {
    return { data: x.data.slice(), shape: [...x.shape] };
  },
  dispose() {
    // garbage-collected
  },
};
