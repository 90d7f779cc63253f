import { describe, it, expect } from 'vitest';
import type { PlanarImage } from '../../training/data/image.ts';
import {
  cornerToCentreLuma,
  edgeSsim,
  gaussianTaps,
  gmsd,
  holeMeasures,
  lumaCorrelation,
  lumaStd,
  meanChroma,
  meanLuminance,
  meanWarmth,
  mse8,
  psnr,
  ssim,
} from './metrics.ts';

function solid(w: number, h: number, rgb: [number, number, number]): PlanarImage {
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) data.fill(rgb[c] as number, c * w * h, (c + 1) * w * h);
  return { width: w, height: h, channels: 3, data };
}

/** A deterministic textured image (8-bit values), so SSIM has structure to compare. */
function textured(w: number, h: number): PlanarImage {
  const img = solid(w, h, [0, 0, 0]);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) img.data[c * w * h + y * w + x] = ((x * 7 + y * 13 + c * 50 + ((x * y) % 17) * 5) % 256) / 255;
    }
  }
  return img;
}

describe('psnr', () => {
  it('is infinite for identical images', () => {
    const a = textured(20, 20);
    expect(psnr(a, a)).toBe(Infinity);
    expect(psnr(a, a, { channel: 'y', border: 4 })).toBe(Infinity);
  });

  it('gives 10·log10(255²/100) for a uniform error of 10 levels (MSE 100)', () => {
    const a = solid(8, 8, [100 / 255, 50 / 255, 200 / 255]);
    const b = solid(8, 8, [110 / 255, 60 / 255, 210 / 255]);
    expect(mse8(a, b)).toBeCloseTo(100, 10);
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10(65025 / 100), 10); // 28.1308 dB
    expect(psnr(a, b)).toBeCloseTo(28.1308, 4);
  });

  it('ignores differences inside the cropped border', () => {
    const a = solid(10, 10, [0.5, 0.5, 0.5]);
    const b = solid(10, 10, [0.5, 0.5, 0.5]);
    b.data[0] = 1; // pixel (0, 0) of R
    expect(psnr(a, b)).toBeLessThan(Infinity);
    expect(psnr(a, b, { border: 1 })).toBe(Infinity);
    // one pixel of 300 in the image: MSE = d² / (3·100)
    const d = 255 - 128;
    expect(mse8(a, b)).toBeCloseTo((d * d) / 300, 10);
  });

  it('measures Y on the rgb2ycbcr scale (black 16, white 235)', () => {
    const black = solid(4, 4, [0, 0, 0]);
    const white = solid(4, 4, [1, 1, 1]);
    expect(mse8(black, white, { channel: 'y' })).toBeCloseTo(219 * 219, 6);
    expect(psnr(black, white, { channel: 'y' })).toBeCloseTo(20 * Math.log10(255 / 219), 6);
  });

  it('rejects images of different sizes', () => {
    expect(() => psnr(solid(4, 4, [0, 0, 0]), solid(4, 5, [0, 0, 0]))).toThrow(RangeError);
  });
});

describe('ssim', () => {
  it('has normalised Gaussian taps symmetric about the centre', () => {
    const k = gaussianTaps(11, 1.5);
    expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(k[0]).toBeCloseTo(k[10] as number, 15);
    expect(k[5]).toBeGreaterThan(k[4] as number);
  });

  it('is 1 for identical images', () => {
    const a = textured(24, 20);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    expect(ssim(a, a, { border: 2 })).toBeCloseTo(1, 12);
  });

  it('reduces to the luminance term for two flat images (hand-computed: black vs white)', () => {
    // Y = 16 and 235, no variance: SSIM = (2·16·235 + C1) / (16² + 235² + C1), C1 = (0.01·255)²
    const c1 = (0.01 * 255) ** 2;
    const want = (2 * 16 * 235 + c1) / (16 * 16 + 235 * 235 + c1);
    expect(ssim(solid(12, 12, [0, 0, 0]), solid(12, 12, [1, 1, 1]))).toBeCloseTo(want, 10);
    expect(want).toBeCloseTo(0.13564, 4);
  });

  it('drops when structure is destroyed and when contrast changes', () => {
    const a = textured(32, 32);
    const flat = solid(32, 32, [0.5, 0.5, 0.5]);
    const lowContrast: PlanarImage = { ...a, data: a.data.map((v) => 0.5 + 0.3 * (v - 0.5)) };
    expect(ssim(a, flat)).toBeLessThan(0.2);
    const s = ssim(a, lowContrast);
    expect(s).toBeLessThan(0.95);
    expect(s).toBeGreaterThan(ssim(a, flat));
  });

  it('needs at least an 11×11 window', () => {
    expect(() => ssim(solid(10, 10, [0, 0, 0]), solid(10, 10, [0, 0, 0]))).toThrow(RangeError);
  });
});

describe('edge SSIM', () => {
  it('is 1 for identical images and for a negative (same edges)', () => {
    const a = textured(24, 24);
    const neg: PlanarImage = { ...a, data: a.data.map((v) => 1 - v) };
    expect(edgeSsim(a, a)).toBeCloseTo(1, 12);
    expect(edgeSsim(a, neg)).toBeCloseTo(1, 9);
  });

  it('is unchanged by a global darkening but drops when edges move', () => {
    const a = textured(24, 24);
    const dark: PlanarImage = { ...a, data: a.data.map((v) => 0.5 * v) };
    expect(edgeSsim(a, dark)).toBeCloseTo(1, 9);
    const shifted: PlanarImage = { ...a, data: new Float32Array(a.data.length) };
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 24; y++) for (let x = 0; x < 24; x++) shifted.data[c * 576 + y * 24 + x] = a.data[c * 576 + y * 24 + ((x + 3) % 24)] as number;
    }
    expect(edgeSsim(a, shifted)).toBeLessThan(0.9);
  });
});

describe('summary statistics', () => {
  it('mean luminance is the Rec. 709 weighted sum for a flat colour', () => {
    expect(meanLuminance(solid(3, 3, [1, 0, 0]))).toBeCloseTo(0.2126, 6);
    expect(meanLuminance(solid(3, 3, [0.2, 0.4, 0.6]))).toBeCloseTo(0.2126 * 0.2 + 0.7152 * 0.4 + 0.0722 * 0.6, 6);
  });

  it('chroma is 0 for grey and max − min otherwise', () => {
    expect(meanChroma(solid(3, 3, [0.3, 0.3, 0.3]))).toBe(0);
    expect(meanChroma(solid(3, 3, [0.9, 0.2, 0.5]))).toBeCloseTo(0.7, 6);
  });

  it('contrast, warmth, vignetting and correlation behave as defined', () => {
    expect(lumaStd(solid(4, 4, [0.4, 0.4, 0.4]))).toBeCloseTo(0, 6);
    const half = solid(4, 2, [0, 0, 0]);
    half.data.fill(1, 0, 4); // R plane top row
    half.data.fill(1, 8, 12); // G plane top row
    half.data.fill(1, 16, 20); // B plane top row
    expect(lumaStd(half)).toBeCloseTo(0.5, 6);
    expect(meanWarmth(solid(2, 2, [0.8, 0.5, 0.2]))).toBeCloseTo(0.6, 6);
    expect(cornerToCentreLuma(solid(20, 20, [0.5, 0.5, 0.5]))).toBeCloseTo(1, 6);
    const a = textured(16, 16);
    expect(lumaCorrelation(a, { ...a, data: a.data.map((v) => 1 - v) })).toBeCloseTo(-1, 6);
  });
});

describe('gmsd', () => {
  it('is 0 for identical images and symmetric', () => {
    const a = textured(24, 20);
    expect(gmsd(a, a)).toBeCloseTo(0, 12);
    const b = { ...a, data: a.data.map((v, i) => Math.min(1, v + ((i * 37) % 11) / 255)) };
    expect(gmsd(a, b)).toBeGreaterThan(0);
    expect(gmsd(a, b)).toBeCloseTo(gmsd(b, a), 12);
  });

  it('matches the reference computation on a 4×4 image (2×2 mean, subsample, Prewitt, c = 170, std N − 1)', () => {
    const black = solid(4, 4, [0, 0, 0]);
    const block = solid(4, 4, [0, 0, 0]);
    for (let c = 0; c < 3; c++) for (const i of [0, 1, 4, 5]) block.data[c * 16 + i] = 1;
    // subsampled block: [255 0; 0 0]; its Prewitt magnitudes: 0, 85, 85, 85·√2; the black image's: 0
    const q = [0, 85, 85, 85 * Math.SQRT2].map((m) => 170 / (m * m + 170));
    const mean = q.reduce((s, v) => s + v, 0) / 4;
    const expected = Math.sqrt(q.reduce((s, v) => s + (v - mean) ** 2, 0) / 3);
    expect(gmsd(black, block)).toBeCloseTo(expected, 10);
  });

  it('grows as an image is blurred more (blur is lost structure, not a free pass)', () => {
    const a = textured(32, 32);
    const blur = (img: PlanarImage, r: number): PlanarImage => {
      const out = { ...img, data: new Float32Array(img.data.length) };
      for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
        let s = 0;
        let n = 0;
        for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
          const yy = Math.min(31, Math.max(0, y + dy));
          const xx = Math.min(31, Math.max(0, x + dx));
          s += img.data[c * 1024 + yy * 32 + xx] as number;
          n++;
        }
        out.data[c * 1024 + y * 32 + x] = s / n;
      }
      return out;
    };
    const g1 = gmsd(a, blur(a, 1));
    const g2 = gmsd(a, blur(a, 2));
    expect(g1).toBeGreaterThan(0.01);
    expect(g2).toBeGreaterThan(g1);
  });
});

describe('holeMeasures', () => {
  const hole = (w: number, h: number, x0: number, y0: number, x1: number, y1: number): Float32Array => {
    const m = new Float32Array(w * h);
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * w + x] = 1;
    return m;
  };

  it('a perfect fill: infinite PSNR, no colour error, the truth\'s gradient energy', () => {
    const t = textured(20, 20);
    const r = holeMeasures(t, t, hole(20, 20, 5, 5, 15, 12));
    expect(r).toEqual({ psnr: Infinity, meanColourDistance: 0, gradientEnergyRatio: 1 });
  });

  it('counts only the hole: a colour cast of (10, 0, 0) inside it is distance 10 and PSNR 10·log10(255²/(100/3))', () => {
    const t = solid(12, 12, [0.4, 0.5, 0.6]);
    const m = hole(12, 12, 2, 2, 8, 8);
    const f = { ...t, data: t.data.slice() };
    for (let i = 0; i < 144; i++) {
      if (m[i] === 1) f.data[i] = 112 / 255;
      else f.data[144 + i] = 0; // a change outside the hole is not measured
    }
    const r = holeMeasures(f, solid(12, 12, [102 / 255, 0.5, 0.6]), m);
    expect(r.meanColourDistance).toBeCloseTo(10, 10);
    expect(r.psnr).toBeCloseTo(10 * Math.log10(65025 / (100 / 3)), 10);
  });

  it('a flat fill of a textured hole has a small gradient-energy ratio; noise a large one', () => {
    const t = textured(32, 32);
    const m = hole(32, 32, 8, 8, 24, 24);
    const flat = { ...t, data: t.data.slice() };
    const noisy = { ...t, data: t.data.slice() };
    for (let c = 0; c < 3; c++) for (let i = 0; i < 1024; i++) if (m[i] === 1) {
      flat.data[c * 1024 + i] = 0.5;
      noisy.data[c * 1024 + i] = (Math.imul(i + 1, 2654435761) >>> 16) & 1;
    }
    expect(holeMeasures(flat, t, m).gradientEnergyRatio).toBeLessThan(0.4);
    expect(holeMeasures(noisy, t, m).gradientEnergyRatio).toBeGreaterThan(2);
    expect(() => holeMeasures(t, t, new Float32Array(1024))).toThrow(/empty/);
  });
});
