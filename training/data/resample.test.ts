import { describe, it, expect } from 'vitest';
import { createImage } from './image.ts';
import { resize } from './resample.ts';

describe('resize (PyTorch interpolate semantics)', () => {
  const ramp = createImage(8, 4, 1);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) ramp.data[y * 8 + x] = x;

  it('area ×½ averages pixel pairs', () => {
    const out = resize(ramp, 4, 2, 'area');
    expect(Array.from(out.data.subarray(0, 4))).toEqual([0.5, 2.5, 4.5, 6.5]);
  });

  it('bilinear ×2 up matches half-pixel centres with edge clamping', () => {
    const line = createImage(2, 1, 1);
    line.data.set([0, 1]);
    expect(Array.from(resize(line, 4, 1, 'bilinear').data)).toEqual([0, 0.25, 0.75, 1]);
  });

  it('bicubic keeps constants and interpolates a linear ramp exactly inside', () => {
    const c = createImage(5, 5, 3);
    c.data.fill(0.7);
    for (const v of resize(c, 13, 9, 'bicubic').data) expect(v).toBeCloseTo(0.7, 6);
    // ×3 up: output 3k+1 sits exactly on source pixel k, so it must reproduce it
    const up = resize(ramp, 24, 4, 'bicubic');
    expect(up.data[4]).toBeCloseTo(1, 6);
    expect(up.data[7]).toBeCloseTo(2, 6);
    // a third of the way from sample 3 to 4
    expect(up.data[11]).toBeGreaterThan(3.2);
    expect(up.data[11]).toBeLessThan(3.5);
  });

  it('output sizes follow the request', () => {
    const out = resize(ramp, 3, 7, 'bicubic');
    expect([out.width, out.height, out.data.length]).toEqual([3, 7, 21]);
  });
});
