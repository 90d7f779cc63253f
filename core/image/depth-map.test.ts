import { describe, expect, it } from 'vitest';
import { DEPTH_MAP_NEEDS, depthMapProblem } from './depth-map.ts';

function rgb(width: number, height: number, f: (x: number, y: number) => [number, number, number], maxValue = 255, channels = 3): { width: number; height: number; channels: number; maxValue: number; pixels: number[] } {
  const pixels: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      pixels.push(...f(x, y));
      if (channels === 4) pixels.push(maxValue);
    }
  }
  return { width, height, channels, maxValue, pixels };
}

describe('depth map rule', () => {
  it('accepts grey maps: one channel, R = G = B, and grey with JPEG-sized chroma noise', () => {
    expect(depthMapProblem({ width: 2, height: 1, channels: 1, maxValue: 255, pixels: [0, 255] })).toBeNull();
    expect(depthMapProblem(rgb(16, 16, (x) => [x * 16, x * 16, x * 16]))).toBeNull();
    expect(depthMapProblem(rgb(16, 16, (x, y) => [x * 16, x * 16 + ((x + y) % 5) - 2, x * 16 + 3], 255, 4))).toBeNull();
    expect(depthMapProblem(rgb(8, 8, (x) => [x * 8000, x * 8000 + 500, x * 8000], 65535))).toBeNull();
  });

  it('refuses a colour photo with the reason and what the tool needs', () => {
    const photo = rgb(16, 16, (x, y) => [40 + x * 10, 90 + y * 5, 200 - x * 6]);
    const why = depthMapProblem(photo);
    expect(why).toMatch(/^this image is not a depth map: \d+ % of its pixels are in colour/);
    expect(why).toContain(DEPTH_MAP_NEEDS);
  });

  it('lets a few coloured pixels through (1 %) but not more', () => {
    const withDots = (dots: number) => rgb(100, 10, (x, y) => (y * 100 + x < dots ? [255, 0, 0] : [90, 90, 90]));
    expect(depthMapProblem(withDots(10))).toBeNull();
    expect(depthMapProblem(withDots(11))).toMatch(/not a depth map: 1 %/);
  });
});
