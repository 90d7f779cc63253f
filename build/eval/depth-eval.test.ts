import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { edgeCorrelation } from '../../core/image/depth-edges.ts';
import { openDepthPack, depthWithPack, summarise } from './depth-eval.ts';
import type { DepthMap } from './depth-maps.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('depth eval summary', () => {
  it('averages over maps per seed, then over seeds, and counts maps whose seed mean reaches 0.3', () => {
    const rows = summarise([
      { map: 'a', group: 'real', seed: 0, corr: 0.5 },
      { map: 'b', group: 'render', seed: 0, corr: 0.1 },
      { map: 'a', group: 'real', seed: 1, corr: 0.3 },
      { map: 'b', group: 'render', seed: 1, corr: 0.3 },
    ]);
    const all = rows.find((r) => r.group === 'all');
    expect(all?.perSeed).toEqual([0.3, 0.3]);
    expect(all?.mean).toBeCloseTo(0.3, 10);
    expect(all?.sd).toBeCloseTo(0, 10);
    expect(all?.share03).toBe(0.5);
    expect(all?.worstMap).toBeCloseTo(0.2, 10);
    expect(rows.find((r) => r.group === 'real')?.sd).toBeCloseTo(Math.SQRT2 * 0.1, 10);
  });
});

describe('the bundled depth pack', () => {
  it('puts its luminance edges on a depth map’s edges (a near disc and box on a floor, never seen in training)', async () => {
    const W = 128;
    const H = 96;
    const data = new Float32Array(W * H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const floor = y > H / 2 ? 0.3 + (0.5 * (y - H / 2)) / (H / 2) : 0.05;
        const disc = Math.hypot(x - 40, y - 50) < 22 ? 0.9 : 0;
        const box = x > 80 && x < 115 && y > 25 && y < 70 ? 0.6 : 0;
        data[y * W + x] = Math.max(floor, disc, box);
      }
    }
    const map: DepthMap = { name: 'scene', group: 'test', width: W, height: H, data, source: 'test' };
    const { model, close } = await openDepthPack(path.join(REPO, 'native-models/codi-depth'), path.join(REPO, 'native-models/codi-backbone'));
    try {
      for (const seed of [0, 1]) {
        const luma = await depthWithPack(model, map, seed);
        // the 150-step pack this replaced measured about 0 here; the shipped one 0.4-0.5 on held-out maps
        expect(edgeCorrelation(luma, data, W, H)).toBeGreaterThan(0.3);
      }
    } finally {
      await close();
    }
  }, 120_000);
});
