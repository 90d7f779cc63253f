import { describe, it, expect } from 'vitest';
import { f32Ops, f32Tensor, numel } from './ops.ts';
import { Rng } from '../rng.ts';

describe('f32Ops', () => {
  const a = f32Tensor([2, 2], Float32Array.from([1, 2, 3, 4]));
  const b = f32Tensor([2, 2], Float32Array.from([0.5, -1, 2, 0]));
  it('elementwise ops by hand, inputs untouched', () => {
    expect(Array.from(f32Ops.add(a, b).data)).toEqual([1.5, 1, 5, 4]);
    expect(Array.from(f32Ops.sub(a, b).data)).toEqual([0.5, 3, 1, 4]);
    expect(Array.from(f32Ops.mul(a, b).data)).toEqual([0.5, -2, 6, 0]);
    expect(Array.from(f32Ops.scale(a, -2).data)).toEqual([-2, -4, -6, -8]);
    expect(Array.from(f32Ops.axpby(2, a, 4, b).data)).toEqual([4, 0, 14, 8]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4]);
  });
  it('zerosLike, clone (independent), shapes kept', () => {
    const z = f32Ops.zerosLike(a);
    expect(z.shape).toEqual([2, 2]);
    expect(Array.from(z.data)).toEqual([0, 0, 0, 0]);
    const c = f32Ops.clone(a);
    c.data[0] = 9;
    expect(a.data[0]).toBe(1);
  });
  it('randnLike is deterministic in the rng', () => {
    const r1 = f32Ops.randnLike(a, new Rng(3));
    const r2 = f32Ops.randnLike(a, new Rng(3));
    expect(Array.from(r1.data)).toEqual(Array.from(r2.data));
    expect(r1.shape).toEqual([2, 2]);
  });
  it('shape checks', () => {
    expect(() => f32Ops.add(a, f32Tensor([4]))).toThrow(RangeError);
    expect(() => f32Tensor([2], new Float32Array(3))).toThrow(RangeError);
    expect(numel([2, 3, 4])).toBe(24);
  });
});
