import { describe, it, expect } from 'vitest';
import { contextRegion, maskBox } from './mask-region.ts';

describe('maskBox', () => {
  it('bounds the values at or above 0.5, end-exclusive', () => {
    const W = 6;
    const H = 5;
    const m = new Float32Array(W * H);
    m[1 * W + 2] = 0.5;
    m[3 * W + 4] = 1;
    m[4 * W + 5] = 0.49; // below the threshold: not part of the mask
    expect(maskBox(m, W, H)).toEqual({ y0: 1, y1: 4, x0: 2, x1: 5 });
  });

  it('is null for an empty mask', () => {
    expect(maskBox(new Float32Array(12).fill(0.4), 4, 3)).toBeNull();
  });
});

describe('contextRegion', () => {
  it('grows the box by half its longer side, on the grid', () => {
    // 40 px wide box: margin max(2·16, 20) = 32, then outward to multiples of 16
    expect(contextRegion({ y0: 40, y1: 48, x0: 100, x1: 140 }, 16, 160, 320)).toEqual({ y0: 0, y1: 80, x0: 64, x1: 176 });
    // 200 px wide box: margin 100
    expect(contextRegion({ y0: 300, y1: 310, x0: 300, x1: 500 }, 16, 1024, 1024)).toEqual({ y0: 192, y1: 416, x0: 192, x1: 608 });
  });

  it('stays inside the image and always contains the box', () => {
    const H = 96;
    const W = 128;
    for (const box of [{ y0: 0, y1: 3, x0: 0, x1: 3 }, { y0: 90, y1: 96, x0: 120, x1: 128 }, { y0: 10, y1: 80, x0: 5, x1: 125 }]) {
      const r = contextRegion(box, 16, H, W);
      expect(r.y0).toBeGreaterThanOrEqual(0);
      expect(r.x0).toBeGreaterThanOrEqual(0);
      expect(r.y1).toBeLessThanOrEqual(H);
      expect(r.x1).toBeLessThanOrEqual(W);
      expect(r.y0 <= box.y0 && r.x0 <= box.x0 && r.y1 >= box.y1 && r.x1 >= box.x1).toBe(true);
      for (const v of [r.y0, r.y1, r.x0, r.x1]) expect(v % 16).toBe(0);
    }
  });
});
