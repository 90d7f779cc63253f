import { describe, it, expect } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { boxMask, brushStrokeMask, coverage, irregularMask, MASK_STYLES, personStrokeMask, sampleMask, sideMask } from './masks.ts';

describe('inpainting masks', () => {
  it('irregular masks cover 15–50 % of the image', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 30; i++) {
      const c = coverage(irregularMask(rng, 64, 64));
      expect(c).toBeGreaterThanOrEqual(0.15);
      expect(c).toBeLessThanOrEqual(0.5);
    }
  });

  it('box masks respect the 32–128 px sides and the 20 px margin at 256²', () => {
    const rng = new Rng(2);
    for (let i = 0; i < 20; i++) {
      const m = boxMask(rng, 256, 256);
      let minX = 256, maxX = -1, minY = 256, maxY = -1;
      for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) if (m.data[y * 256 + x]) {
        minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
      }
      expect(maxX - minX + 1).toBeGreaterThanOrEqual(32);
      expect(maxX - minX + 1).toBeLessThanOrEqual(128);
      expect(minX).toBeGreaterThanOrEqual(20);
      expect(minY).toBeGreaterThanOrEqual(20);
      expect(coverage(m)).toBeCloseTo(((maxX - minX + 1) * (maxY - minY + 1)) / 65536, 10);
    }
  });

  it('brush strokes cover a plausible range at 256² and scale with the image', () => {
    const rng = new Rng(5);
    const covs = Array.from({ length: 30 }, () => coverage(brushStrokeMask(rng, 256, 256)));
    expect(Math.min(...covs)).toBeGreaterThan(0.01);
    expect(Math.max(...covs)).toBeLessThan(0.9);
    const small = Array.from({ length: 30 }, () => coverage(brushStrokeMask(rng, 64, 64)));
    const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
    // width and radius scale together, so coverage is roughly size-independent
    expect(Math.abs(mean(small) - mean(covs))).toBeLessThan(0.15);
  });

  it('person strokes are never empty and mostly leave most of the image', () => {
    const rng = new Rng(8);
    const covs = Array.from({ length: 40 }, () => coverage(personStrokeMask(rng, 64, 64)));
    expect(Math.min(...covs)).toBeGreaterThan(0);
    expect(covs.filter((c) => c < 0.6).length).toBeGreaterThan(30);
  });

  it('side masks cover 25–50 %', () => {
    const rng = new Rng(4);
    for (let i = 0; i < 20; i++) {
      const c = coverage(sideMask(rng, 64, 64));
      expect(c).toBeGreaterThanOrEqual(0.23);
      expect(c).toBeLessThanOrEqual(0.52);
    }
  });

  it('is deterministic under a seed and uses every style in the mixture', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const a = sampleMask(new Rng(i), 64, 48);
      const b = sampleMask(new Rng(i), 64, 48);
      expect(a.style).toBe(b.style);
      expect(Array.from(a.mask.data)).toEqual(Array.from(b.mask.data));
      const c = coverage(a.mask);
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThan(0.95);
      seen.add(a.style);
    }
    expect([...seen].sort()).toEqual([...MASK_STYLES].sort());
  });
});
