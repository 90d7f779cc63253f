/** The tiled sampler's noise made a band at a time is the whole seeded field, value for value. */
import { describe, it, expect } from 'vitest';
import { crop } from '../../../core/tensor/layout.ts';
import { NoiseRows, seededNoise, startLatent } from './denoise.ts';

describe('NoiseRows', () => {
  it('bands that overlap, touch or skip rows equal the same rows of seededNoise', () => {
    const shape = [1, 3, 23, 7] as const;
    const whole = seededNoise(shape, 11);
    const rows = new NoiseRows(shape, 11);
    // overlapping (0-8, 5-13), touching (13-16), a gap (18-21), then the last rows; odd widths put spares at plane edges
    for (const [y, n] of [[0, 8], [5, 8], [13, 3], [18, 3], [19, 4]] as const) {
      const band = rows.rows(y, n);
      expect(band.shape).toEqual([1, 3, n, 7]);
      expect(Array.from(band.data)).toEqual(Array.from(crop(whole, y, 0, n, 7).data));
    }
  });
  it('refuses to go back up the image', () => {
    const rows = new NoiseRows([1, 2, 16, 4], 3);
    rows.rows(4, 8);
    expect(() => rows.rows(2, 8)).toThrow(RangeError);
    expect(() => rows.rows(4, 4)).toThrow(RangeError);
  });
});

describe('startLatent', () => {
  it('gives τ·seededNoise, the same from its cache, and a copy the caller may change', () => {
    const shape = [1, 4, 8, 8] as const;
    const first = startLatent(0.5, shape, 21);
    expect(Array.from(first.data)).toEqual(Array.from(seededNoise(shape, 21).data, (v) => Math.fround(v * 0.5)));
    first.data.fill(7);
    const again = startLatent(0.5, shape, 21);
    expect(Array.from(again.data)).toEqual(Array.from(seededNoise(shape, 21).data, (v) => Math.fround(v * 0.5)));
    // another seed or temperature is another field
    expect(startLatent(0.5, shape, 22).data[0]).not.toBe(again.data[0]);
    expect(startLatent(1, shape, 21).data[0]).toBe(seededNoise(shape, 21).data[0]);
  });
  it('gives the exact negation for the second draw of an antithetic pair, cached or not', () => {
    const shape = [1, 2, 4, 4] as const;
    const neg = startLatent(0.8, shape, 5, true);
    const pos = startLatent(0.8, shape, 5);
    expect(Array.from(neg.data)).toEqual(Array.from(pos.data, (v) => -v));
    expect(Array.from(startLatent(0.8, shape, 5, true).data)).toEqual(Array.from(neg.data));
  });
});
