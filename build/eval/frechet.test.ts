import { describe, it, expect } from 'vitest';
import { frechetDistance, meanPairedL2, symmetricEigenvalues } from './frechet.ts';

const v = (...xs: number[]): Float32Array => Float32Array.from(xs);
const sorted = (a: Float64Array): number[] => [...a].sort((x, y) => x - y);

describe('symmetricEigenvalues', () => {
  it('finds 1 and 3 for [[2, 1], [1, 2]]', () => {
    const ev = sorted(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2));
    expect(ev[0]).toBeCloseTo(1, 12);
    expect(ev[1]).toBeCloseTo(3, 12);
  });

  it('keeps the trace and the determinant of a 3 × 3 matrix', () => {
    const m = Float64Array.of(4, 1, -2, 1, 2, 0, -2, 0, 3);
    const ev = symmetricEigenvalues(m, 3);
    const det = 4 * (2 * 3 - 0) - 1 * (1 * 3 - 0) + -2 * (0 - 2 * -2);
    expect(ev.reduce((s, x) => s + x, 0)).toBeCloseTo(9, 10);
    expect(ev.reduce((s, x) => s * x, 1)).toBeCloseTo(det, 8);
  });
});

describe('frechetDistance', () => {
  it('is 0 for the same set and ‖shift‖² for a shifted copy', () => {
    const a = [v(1, 2, 0), v(0, 1, 1), v(3, 0, 2), v(1, 1, 1)];
    expect(frechetDistance(a, a)).toBeCloseTo(0, 9);
    const b = a.map((x) => v((x[0] as number) + 1, (x[1] as number) - 2, x[2] as number));
    expect(frechetDistance(a, b)).toBeCloseTo(5, 9);
  });

  it('is (μ₁ − μ₂)² + (σ₁ − σ₂)² in one dimension (sample σ)', () => {
    const a = [v(0), v(2)]; // μ 1, σ √2
    const b = [v(5), v(6), v(7)]; // μ 6, σ 1
    expect(frechetDistance(a, b)).toBeCloseTo(25 + (Math.SQRT2 - 1) ** 2, 10);
  });

  it('is Σ (σ₁ᵢ − σ₂ᵢ)² for axis-aligned covariances of equal mean', () => {
    // (±a, 0), (0, ±b): mean 0, Σ = diag(a², b²)·2/3
    const cross = (a: number, b: number): Float32Array[] => [v(a, 0), v(-a, 0), v(0, b), v(0, -b)];
    const s = (x: number): number => Math.sqrt((2 * x * x) / 3);
    const want = (s(1) - s(3)) ** 2 + (s(2) - s(0.5)) ** 2;
    expect(frechetDistance(cross(1, 2), cross(3, 0.5))).toBeCloseTo(want, 10);
  });

  it('needs two vectors per set', () => {
    expect(() => frechetDistance([v(1)], [v(1), v(2)])).toThrow(RangeError);
  });
});

describe('meanPairedL2', () => {
  it('averages the per-pair Euclidean distances', () => {
    expect(meanPairedL2([v(0, 0), v(1, 1)], [v(3, 4), v(1, 1)])).toBeCloseTo(2.5, 12);
  });
});
