import { describe, it, expect } from 'vitest';
import { at } from './at.ts';

describe('at', () => {
  it('returns the element at an index of an array or typed array', () => {
    expect(at([4, 5, 6], 2)).toBe(6);
    expect(at(Float32Array.from([0.5, 1.5]), 0)).toBe(0.5);
    expect(at([undefined, 1], 0)).toBeUndefined();
  });

  it('throws a RangeError naming the index and length otherwise', () => {
    expect(() => at([1, 2], 2)).toThrow('index 2 outside [0, 2)');
    expect(() => at([1, 2], -1)).toThrow(RangeError);
    expect(() => at([1, 2], 0.5)).toThrow(RangeError);
    expect(() => at(new Float64Array(0), 0)).toThrow('index 0 outside [0, 0)');
  });
});
