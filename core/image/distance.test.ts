import { describe, it, expect } from 'vitest';
import { squaredDistanceTo } from './distance.ts';

describe('squaredDistanceTo', () => {
  it('matches brute force on a random seed set', () => {
    const w = 23;
    const h = 17;
    let s = 7;
    const seeds = new Uint8Array(w * h).map(() => ((s = (s * 1103515245 + 12345) >>> 0) >>> 28) === 0 ? 1 : 0);
    seeds[5] = 1;
    const d = squaredDistanceTo(w, h, (i) => seeds[i] === 1);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let best = Infinity;
        for (let j = 0; j < seeds.length; j++) if (seeds[j]) best = Math.min(best, (x - (j % w)) ** 2 + (y - Math.floor(j / w)) ** 2);
        expect(d[y * w + x]).toBe(best);
      }
    }
  });
});
