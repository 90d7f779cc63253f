/** The tiled sampler's noise made a band at a time is the whole seeded field, value for value. */
import { describe, it, expect } from 'vitest';
import { crop } from '../../../core/tensor/layout.ts';
import { NoiseRows, seededNoise } from './denoise.ts';

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
