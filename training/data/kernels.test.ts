import { describe, it, expect } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { besselJ1, drawBlurKernel, pulseKernel, shapedKernel, sincKernel, KERNEL_TYPES } from './kernels.ts';
import type { Kernel } from './kernels.ts';

const sum = (k: Kernel): number => k.data.reduce((a, b) => a + b, 0);
const at = (k: Kernel, x: number, y: number): number => k.data[y * k.size + x] as number;

describe('blur kernels', () => {
  it('every family sums to 1 and peaks at the centre', () => {
    const shapes = [
      { sigmaX: 1.2, sigmaY: 1.2, theta: 0, beta: 0, family: 'gaussian' as const },
      { sigmaX: 2.5, sigmaY: 0.6, theta: 0.7, beta: 0, family: 'gaussian' as const },
      { sigmaX: 1.5, sigmaY: 1, theta: -1, beta: 3, family: 'generalized' as const },
      { sigmaX: 1.5, sigmaY: 2, theta: 2, beta: 1.7, family: 'plateau' as const },
    ];
    for (const shape of shapes) {
      const k = shapedKernel(21, shape);
      expect(sum(k)).toBeCloseTo(1, 5);
      expect(Math.max(...k.data)).toBe(at(k, 10, 10));
    }
    expect(sum(sincKernel(13, Math.PI / 4))).toBeCloseTo(1, 5);
    expect(sum(pulseKernel(21))).toBe(1);
  });

  it('anisotropic Gaussian is elongated along its rotated axis', () => {
    const k = shapedKernel(21, { sigmaX: 3, sigmaY: 0.5, theta: 0, beta: 0, family: 'gaussian' });
    expect(at(k, 13, 10)).toBeGreaterThan(10 * at(k, 10, 13));
    const r = shapedKernel(21, { sigmaX: 3, sigmaY: 0.5, theta: Math.PI / 2, beta: 0, family: 'gaussian' });
    expect(at(r, 10, 13)).toBeCloseTo(at(k, 13, 10), 6);
  });

  it('isotropic Gaussian matches the closed form', () => {
    const s = 1.3;
    const k = shapedKernel(21, { sigmaX: s, sigmaY: s, theta: 0, beta: 0, family: 'gaussian' });
    expect(at(k, 12, 10) / at(k, 10, 10)).toBeCloseTo(Math.exp(-4 / (2 * s * s)), 6);
  });

  it('J1 matches reference values and the sinc kernel has negative lobes', () => {
    expect(besselJ1(1)).toBeCloseTo(0.4400505857, 8);
    expect(besselJ1(5)).toBeCloseTo(-0.3275791376, 8);
    expect(besselJ1(0)).toBeCloseTo(0, 12);
    const k = sincKernel(21, Math.PI / 5);
    expect(Math.min(...k.data)).toBeLessThan(0);
  });

  it('random draws are deterministic under a seed, sum to 1, and cover every type', () => {
    const spec = { types: KERNEL_TYPES, probs: [0.45, 0.25, 0.12, 0.03, 0.12, 0.03], sigma: [0.2, 3] as const, betaG: [0.5, 4] as const, betaP: [1, 2] as const };
    const a = new Rng(7);
    const b = new Rng(7);
    for (let i = 0; i < 50; i++) {
      const ka = drawBlurKernel(a, spec, 21, 0.1);
      const kb = drawBlurKernel(b, spec, 21, 0.1);
      expect(ka.size).toBe(kb.size);
      expect(ka.size % 2).toBe(1);
      expect(ka.size).toBeGreaterThanOrEqual(7);
      expect(ka.size).toBeLessThanOrEqual(21);
      expect(Array.from(ka.data)).toEqual(Array.from(kb.data));
      expect(sum(ka)).toBeCloseTo(1, 5);
    }
  });
});
