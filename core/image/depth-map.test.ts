import { describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { DEPTH_MAP_NEEDS, DEPTH_PEAK_SHARE, depthGreyPlane, depthMapProblem, peakShare } from './depth-map.ts';

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

/** A depth-map-like scene: a floor ramp, a far wall and a near disc, grey RGB. */
function scene(width: number, height: number, maxValue = 255): ReturnType<typeof rgb> {
  return rgb(width, height, (x, y) => {
    const floor = y > height / 2 ? (0.2 + (0.6 * (y - height / 2)) / (height / 2)) : 0.1;
    const v = Math.hypot(x - width / 3, y - height / 2) < height / 5 ? 0.9 : floor;
    const q = Math.round(v * maxValue);
    return [q, q, q];
  }, maxValue);
}

describe('depth map rule: grey photographs', () => {
  it('accepts a smooth map with sharp edges, at any size and bit depth', () => {
    expect(depthMapProblem(scene(320, 200))).toBeNull();
    expect(depthMapProblem(scene(600, 400, 65535))).toBeNull();
    const grey = scene(64, 64);
    expect(depthMapProblem({ ...grey, channels: 1, pixels: grey.pixels.filter((_, i) => i % 3 === 0) })).toBeNull();
  });

  it('refuses a grey picture with photographic texture, one channel or RGB, and says why', () => {
    const rng = new Rng(7);
    const textured = rgb(200, 150, (x) => {
      const v = Math.round(128 + 40 * Math.sin(x / 9) + 30 * (rng.uniform() - 0.5));
      return [v, v, v];
    });
    const why = depthMapProblem(textured);
    expect(why).toMatch(/^this grey image looks like a photograph, not a depth map: [\d.]+ % of its pixels are fine texture/);
    expect(why).toContain(DEPTH_MAP_NEEDS);
    const one = { ...textured, channels: 1, pixels: textured.pixels.filter((_, i) => i % 3 === 0) };
    expect(depthMapProblem(one)).toMatch(/looks like a photograph/);
  });

  it('lets a map with some noise through, up to the limit', () => {
    // sparse speckle (stereo outliers) on a clean map: 0.2 % of the pixels are peaks
    const base = scene(250, 250);
    const rng = new Rng(11);
    const speckled = { ...base, pixels: base.pixels.slice() };
    let peaks = 0;
    for (let y = 2; y < 248; y += 1) {
      for (let x = 2; x < 248; x += 1) {
        if (rng.uniform() < 0.002) {
          const s = (y * 250 + x) * 3;
          speckled.pixels[s] = speckled.pixels[s + 1] = speckled.pixels[s + 2] = 255;
          peaks++;
        }
      }
    }
    const share = peakShare(depthGreyPlane(speckled));
    expect(share).toBeGreaterThan(0.5 * (peaks / 248 / 248));
    expect(share).toBeLessThan(DEPTH_PEAK_SHARE);
    expect(depthMapProblem(speckled)).toBeNull();
  });

  it('measures peaks at most 256 px on the long side, area-scaled', () => {
    const big = scene(1000, 500);
    const plane = depthGreyPlane(big);
    expect([plane.width, plane.height]).toEqual([256, 128]);
    // a flat patch keeps its level through the binning
    expect(plane.data[0]).toBe(Math.round(0.1 * 255));
    expect(peakShare({ width: 3, height: 3, data: [0, 0, 0, 0, 9, 0, 0, 0, 0] })).toBe(1);
    expect(peakShare({ width: 3, height: 3, data: [0, 0, 0, 0, 1, 0, 0, 0, 0] })).toBe(0);
  });
});
