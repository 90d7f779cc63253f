import { describe, it, expect } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { createImage } from './image.ts';
import type { PlanarImage } from './image.ts';
import { normaliseDepth, renderScene, sampleScene } from './depth-scenes.ts';
import type { Scene } from './depth-scenes.ts';

function checker(): PlanarImage {
  const t = createImage(8, 8, 3);
  for (let i = 0; i < 64; i++) {
    const v = ((i % 8) + Math.floor(i / 8)) % 2 ? 0.9 : 0.2;
    t.data[i] = v;
    t.data[64 + i] = v;
    t.data[128 + i] = v;
  }
  return t;
}

const surface = { texture: 0, tileSize: 1, tint: [1, 1, 1] as [number, number, number] };

function sphereScene(): Scene {
  return {
    fovY: Math.PI / 3,
    objects: [
      { kind: 'plane', point: [0, 0, 10], normal: [0, 0, -1], uAxis: [1, 0, 0], vAxis: [0, -1, 0], surface },
      { kind: 'sphere', centre: [0, 0, 5], radius: 1, surface },
    ],
    sun: [0, 0, -1],
    ambient: 0.3,
    fogColour: [0.8, 0.8, 0.8],
    fogDensity: 0,
    sky: [0.5, 0.6, 0.8],
    farZ: 50,
  };
}

describe('depth scenes', () => {
  it('gives the exact z of a sphere in front of a wall and maps near to 1, far to −1', () => {
    const r = renderScene(sphereScene(), [checker()], 33, 33, 1);
    const centre = 16 * 33 + 16;
    expect(r.z[centre]).toBeCloseTo(4, 6);
    expect(r.z[0]).toBeCloseTo(10, 6);
    expect(r.depth.data[centre]).toBeCloseTo(1, 6);
    expect(r.depth.data[0]).toBeCloseTo(-1, 6);
  });

  it('gives the exact z of a ground plane below the horizon', () => {
    const scene: Scene = { ...sphereScene(), objects: [{ kind: 'plane', point: [0, -1.5, 0], normal: [0, 1, 0], uAxis: [1, 0, 0], vAxis: [0, 0, 1], surface }] };
    const h = 40;
    const r = renderScene(scene, [checker()], 40, h, 1);
    const f = h / 2 / Math.tan(scene.fovY / 2);
    const row = 35;
    const dy = row + 0.5 - h / 2;
    // centre column x = 20 lies on the optical axis plane (x offset 0.5 px does not change z on a horizontal plane)
    expect(r.z[row * 40 + 20]).toBeCloseTo((1.5 * f) / dy, 4);
    // the top half sees the sky at farZ
    expect(r.z[0]).toBe(scene.farZ);
  });

  it('random scenes are deterministic and well-formed', () => {
    const tex = [checker(), checker()];
    const a = renderScene(sampleScene(new Rng(3), 2), tex, 32, 24);
    const b = renderScene(sampleScene(new Rng(3), 2), tex, 32, 24);
    expect(Array.from(a.image.data)).toEqual(Array.from(b.image.data));
    expect(Array.from(a.depth.data)).toEqual(Array.from(b.depth.data));
    for (let seed = 0; seed < 8; seed++) {
      const r = renderScene(sampleScene(new Rng(seed), 2), tex, 32, 24);
      expect(Math.max(...r.depth.data)).toBeCloseTo(1, 5);
      expect(Math.min(...r.depth.data)).toBeCloseTo(-1, 5);
      expect(Math.min(...r.image.data)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...r.image.data)).toBeLessThanOrEqual(1);
      // bottom rows (ground near the camera) are nearer than the top row (wall or sky)
      const rowMean = (y: number): number => r.depth.data.slice(y * 32, (y + 1) * 32).reduce((s, v) => s + v, 0) / 32;
      expect(rowMean(23)).toBeGreaterThan(rowMean(0));
    }
  });

  it('normalisation is monotone in inverse depth', () => {
    const d = normaliseDepth(new Float32Array([2, 4, 8]));
    expect(Array.from(d)).toEqual([1, expect.closeTo(-1 / 3, 6), -1]);
  });
});
