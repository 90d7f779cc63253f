import { describe, it, expect } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { createImage } from './image.ts';
import type { PlanarImage } from './image.ts';
import { addGaussianNoise, addPoissonNoise, degrade, filter2d, jpegRoundTrip, REALESRGAN_PRESET, samplePoisson, STABLESR_PRESET } from './degrade.ts';
import { shapedKernel } from './kernels.ts';
import { resize } from './resample.ts';

function testImage(w: number, h: number, seed = 1): PlanarImage {
  const rng = new Rng(seed);
  const img = createImage(w, h, 3);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        img.data[c * w * h + y * w + x] = 0.5 + 0.3 * Math.sin((x + 3 * c) / 4) * Math.cos(y / 5) + 0.05 * rng.uniform();
      }
    }
  }
  return img;
}

function meanStd(a: ArrayLike<number>): [number, number] {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  const m = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += ((a[i] as number) - m) ** 2;
  return [m, Math.sqrt(v / a.length)];
}

describe('degradation pipeline', () => {
  it('produces the LR size for ×4 and ×2 with both presets', async () => {
    const hr = testImage(64, 48);
    for (const [scale, preset] of [[4, STABLESR_PRESET], [2, REALESRGAN_PRESET]] as const) {
      for (let seed = 0; seed < 4; seed++) {
        const { lr } = await degrade(hr, new Rng(seed), scale, preset);
        expect(lr.width).toBe(64 / scale);
        expect(lr.height).toBe(48 / scale);
        expect(lr.channels).toBe(3);
        for (const v of lr.data) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
          expect(Math.abs(v * 255 - Math.round(v * 255))).toBeLessThan(1e-4);
        }
      }
    }
  });

  it('is deterministic under a seed and differs across seeds', async () => {
    const hr = testImage(64, 64);
    const a = await degrade(hr, new Rng(42), 4);
    const b = await degrade(hr, new Rng(42), 4);
    const c = await degrade(hr, new Rng(43), 4);
    expect(Array.from(a.lr.data)).toEqual(Array.from(b.lr.data));
    expect(a.log).toEqual(b.log);
    expect(Array.from(a.lr.data)).not.toEqual(Array.from(c.lr.data));
  });

  it('stays close to a plain downscale on average (it degrades, it does not replace content)', async () => {
    const hr = testImage(64, 64);
    const ref = resize(hr, 16, 16, 'area');
    const { lr } = await degrade(hr, new Rng(5), 4);
    let err = 0;
    for (let i = 0; i < lr.data.length; i++) err += Math.abs((lr.data[i] as number) - (ref.data[i] as number));
    expect(err / lr.data.length).toBeLessThan(0.15);
  });
});

describe('degradation parts', () => {
  it('Gaussian noise has the requested σ; grey noise is equal across channels', () => {
    const img = createImage(128, 128, 3);
    img.data.fill(0.5);
    const noisy = addGaussianNoise(img, new Rng(3), 10 / 255, false);
    const [m, s] = meanStd(noisy.data);
    expect(m).toBeCloseTo(0.5, 2);
    expect(s * 255).toBeGreaterThan(9.7);
    expect(s * 255).toBeLessThan(10.3);
    const grey = addGaussianNoise(img, new Rng(3), 10 / 255, true);
    const n = 128 * 128;
    for (let i = 0; i < n; i += 97) {
      expect(grey.data[i]).toBe(grey.data[n + i]);
      expect(grey.data[i]).toBe(grey.data[2 * n + i]);
    }
  });

  it('Poisson samples have mean and variance λ (both branches)', () => {
    const rng = new Rng(9);
    for (const lambda of [3, 80]) {
      const xs = Array.from({ length: 20000 }, () => samplePoisson(rng, lambda));
      const [m, s] = meanStd(xs);
      expect(m).toBeGreaterThan(lambda * 0.97);
      expect(m).toBeLessThan(lambda * 1.03);
      expect(s * s).toBeGreaterThan(lambda * 0.93);
      expect(s * s).toBeLessThan(lambda * 1.07);
    }
  });

  it('Poisson noise grows with brightness and is zero-mean', () => {
    const img = createImage(256, 64, 3);
    const w = 256;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 64; y++) for (let x = 0; x < w; x++) img.data[c * w * 64 + y * w + x] = x / 255;
    const noisy = addPoissonNoise(img, new Rng(1), 1, false);
    const diff = noisy.data.map((v, i) => v - (img.data[i] as number));
    const dark: number[] = [];
    const bright: number[] = [];
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 32; x++) dark.push(diff[y * w + x] as number);
      for (let x = 224; x < 256; x++) bright.push(diff[y * w + x] as number);
    }
    expect(meanStd(bright)[1]).toBeGreaterThan(2 * meanStd(dark)[1]);
    expect(Math.abs(meanStd(diff)[0])).toBeLessThan(0.005);
  });

  it('blurring keeps a constant image constant (reflect padding, unit sum)', () => {
    const img = createImage(20, 15, 3);
    img.data.fill(0.3);
    const out = filter2d(img, shapedKernel(21, { sigmaX: 2, sigmaY: 1, theta: 0.4, beta: 0, family: 'gaussian' }));
    for (const v of out.data) expect(v).toBeCloseTo(0.3, 5);
  });

  it('JPEG round trip keeps size and loses more at low quality', async () => {
    const img = testImage(48, 32, 2);
    const err = (x: PlanarImage): number => x.data.reduce((a, v, i) => a + Math.abs(v - (img.data[i] as number)), 0) / x.data.length;
    const hi = await jpegRoundTrip(img, 95);
    const lo = await jpegRoundTrip(img, 10);
    expect(hi.width).toBe(48);
    expect(hi.height).toBe(32);
    expect(err(lo)).toBeGreaterThan(err(hi));
  });
});
