/**
 * Real-ESRGAN-style two-stage degradation (Wang et al. 2021) producing the low-resolution input of
 * a restore pair. Order, as in the Real-ESRGAN training pipeline:
 *   stage 1: blur(k1) → random resize (up/down/keep, mode ∈ area/bilinear/bicubic) → Gaussian or
 *            Poisson noise (optionally grey) → JPEG;
 *   stage 2: blur(k2) with `secondBlurProb` → random resize relative to the final LR size → noise;
 *   final:   in random order, either [resize to LR + sinc] then JPEG, or JPEG then [resize + sinc]
 *            (the sinc is applied with `finalSincProb`, else identity); clamp and round to 8 bits.
 * Parameters come from docs/method.md §8.3 as two named presets (StableSR test set, Real-ESRGAN
 * x4plus training). All randomness is drawn from the passed seeded {@link Rng}.
 */
import sharp from 'sharp';
import { luma601 } from '../../core/image/filters.ts';
import type { Rng } from '../../core/rng.ts';
import { clamp01InPlace, createImage, fromInterleavedU8, quantize8InPlace, toInterleavedU8 } from './image.ts';
import type { PlanarImage } from './image.ts';
import { choice, drawBlurKernel, KERNEL_TYPES, pulseKernel, sincKernel, drawKernelSize } from './kernels.ts';
import type { Kernel, KernelDrawSpec } from './kernels.ts';
import { resize, RESIZE_MODES } from './resample.ts';

type Range = readonly [number, number];

/** Parameters of one degradation stage. */
export interface StageParams {
  /** probabilities of [up, down, keep] */
  resizeProb: readonly [number, number, number];
  resizeRange: Range;
  gaussianNoiseProb: number;
  /** Gaussian σ range in 8-bit units (divided by 255) */
  noiseRange: Range;
  poissonScaleRange: Range;
  grayNoiseProb: number;
  jpegRange: Range;
  blurProb: number;
  kernelMaxSize: number;
  kernel: KernelDrawSpec;
  sincProb: number;
}

/** A full degradation preset. */
export interface DegradationPreset {
  name: string;
  stage1: StageParams;
  stage2: StageParams;
  finalSincProb: number;
}

const KERNEL_PROBS = [0.45, 0.25, 0.12, 0.03, 0.12, 0.03] as const;

/** StableSR `configs/stableSRdata/test_data.yaml` (docs/method.md §8.3). */
export const STABLESR_PRESET: DegradationPreset = {
  name: 'stablesr',
  stage1: {
    resizeProb: [0.2, 0.7, 0.1],
    resizeRange: [0.3, 1.5],
    gaussianNoiseProb: 0.5,
    noiseRange: [1, 15],
    poissonScaleRange: [0.05, 2.0],
    grayNoiseProb: 0.4,
    jpegRange: [60, 95],
    blurProb: 1,
    kernelMaxSize: 21,
    kernel: { types: KERNEL_TYPES, probs: KERNEL_PROBS, sigma: [0.2, 1.5], betaG: [0.5, 2], betaP: [1, 1.5] },
    sincProb: 0.1,
  },
  stage2: {
    resizeProb: [0.3, 0.4, 0.3],
    resizeRange: [0.6, 1.2],
    gaussianNoiseProb: 0.5,
    noiseRange: [1, 12],
    poissonScaleRange: [0.05, 1.0],
    grayNoiseProb: 0.4,
    jpegRange: [60, 100],
    blurProb: 0.5,
    kernelMaxSize: 11,
    kernel: { types: KERNEL_TYPES, probs: KERNEL_PROBS, sigma: [0.2, 1.0], betaG: [0.5, 2], betaP: [1, 1.5] },
    sincProb: 0.1,
  },
  finalSincProb: 0.8,
};

/** Real-ESRGAN `options/train_realesrgan_x4plus.yml` (harsher; docs/method.md §8.3). */
export const REALESRGAN_PRESET: DegradationPreset = {
  name: 'realesrgan',
  stage1: {
    resizeProb: [0.2, 0.7, 0.1],
    resizeRange: [0.15, 1.5],
    gaussianNoiseProb: 0.5,
    noiseRange: [1, 30],
    poissonScaleRange: [0.05, 3],
    grayNoiseProb: 0.4,
    jpegRange: [30, 95],
    blurProb: 1,
    kernelMaxSize: 21,
    kernel: { types: KERNEL_TYPES, probs: KERNEL_PROBS, sigma: [0.2, 3], betaG: [0.5, 4], betaP: [1, 2] },
    sincProb: 0.1,
  },
  stage2: {
    resizeProb: [0.3, 0.4, 0.3],
    resizeRange: [0.3, 1.2],
    gaussianNoiseProb: 0.5,
    noiseRange: [1, 25],
    poissonScaleRange: [0.05, 2.5],
    grayNoiseProb: 0.4,
    jpegRange: [30, 95],
    blurProb: 0.8,
    kernelMaxSize: 21,
    kernel: { types: KERNEL_TYPES, probs: KERNEL_PROBS, sigma: [0.2, 1.5], betaG: [0.5, 4], betaP: [1, 2] },
    sincProb: 0.1,
  },
  finalSincProb: 0.8,
};

export const DEGRADATION_PRESETS: Readonly<Record<string, DegradationPreset>> = {
  stablesr: STABLESR_PRESET,
  realesrgan: REALESRGAN_PRESET,
};

function uniform(rng: Rng, r: Range): number {
  return r[0] + (r[1] - r[0]) * rng.uniform();
}

/** 2-D correlation of every channel with `k`, reflect padding (PyTorch `reflect`, edge not repeated).
 * Implemented as shifted row accumulations over a padded plane (cache-friendly inner loop). */
export function filter2d(img: PlanarImage, k: Kernel): PlanarImage {
  if (k.size === 1) return { ...img, data: img.data.slice() };
  const { width: w, height: h } = img;
  const half = (k.size - 1) / 2;
  const reflect = (i: number, n: number): number => {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    let m = ((i % period) + period) % period;
    if (m >= n) m = period - m;
    return m;
  };
  const pw = w + 2 * half;
  const ph = h + 2 * half;
  const xs = new Int32Array(pw);
  for (let i = 0; i < pw; i++) xs[i] = reflect(i - half, w);
  const padded = new Float32Array(pw * ph);
  const out = createImage(w, h, img.channels);
  for (let c = 0; c < img.channels; c++) {
    const src = img.data.subarray(c * w * h, (c + 1) * w * h);
    for (let py = 0; py < ph; py++) {
      const row = reflect(py - half, h) * w;
      for (let px = 0; px < pw; px++) padded[py * pw + px] = src[row + (xs[px] as number)] as number;
    }
    const dst = out.data.subarray(c * w * h, (c + 1) * w * h);
    for (let ky = 0; ky < k.size; ky++) {
      for (let kx = 0; kx < k.size; kx++) {
        const wgt = k.data[ky * k.size + kx] as number;
        if (wgt === 0) continue;
        for (let y = 0; y < h; y++) {
          const o = y * w;
          const p = (y + ky) * pw + kx;
          for (let x = 0; x < w; x++) dst[o + x] = (dst[o + x] as number) + wgt * (padded[p + x] as number);
        }
      }
    }
  }
  return out;
}

/** Add N(0, σ²) noise; `gray` adds the same value to every channel. */
export function addGaussianNoise(img: PlanarImage, rng: Rng, sigma: number, gray: boolean): PlanarImage {
  const out = { ...img, data: img.data.slice() };
  const plane = img.width * img.height;
  if (gray) {
    for (let i = 0; i < plane; i++) {
      const n = sigma * rng.normal();
      for (let c = 0; c < img.channels; c++) out.data[c * plane + i] = (out.data[c * plane + i] as number) + n;
    }
  } else {
    for (let i = 0; i < out.data.length; i++) out.data[i] = (out.data[i] as number) + sigma * rng.normal();
  }
  return out;
}

/** Poisson(λ) sample: inversion for small λ, rounded normal approximation for λ ≥ 30
 * (error of the approximation is far below the 8-bit quantisation at those rates). */
export function samplePoisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda >= 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal()));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = rng.uniform();
  while (p > l) {
    k++;
    p *= rng.uniform();
  }
  return k;
}

/** Real-ESRGAN Poisson noise: counts scale with the number of distinct 8-bit levels
 * (vals = 2^ceil(log2(unique))), noise = (Poisson(x·vals)/vals − x) · scale. */
export function addPoissonNoise(img: PlanarImage, rng: Rng, scale: number, gray: boolean): PlanarImage {
  const plane = img.width * img.height;
  const out = { ...img, data: img.data.slice() };
  const levelsOf = (values: ArrayLike<number>): number => {
    const seen = new Uint8Array(256);
    let count = 0;
    for (let i = 0; i < values.length; i++) {
      const q = Math.min(255, Math.max(0, Math.round((values[i] as number) * 255)));
      if (!seen[q]) {
        seen[q] = 1;
        count++;
      }
    }
    return Math.pow(2, Math.ceil(Math.log2(Math.max(count, 1))));
  };
  if (gray && img.channels === 3) {
    const y = new Float32Array(plane);
    const d = img.data;
    for (let i = 0; i < plane; i++) y[i] = luma601(d[i] as number, d[plane + i] as number, d[2 * plane + i] as number);
    const vals = levelsOf(y);
    for (let i = 0; i < plane; i++) {
      const v = Math.min(1, Math.max(0, Math.round((y[i] as number) * 255) / 255));
      const n = (samplePoisson(rng, v * vals) / vals - v) * scale;
      for (let c = 0; c < 3; c++) out.data[c * plane + i] = (out.data[c * plane + i] as number) + n;
    }
  } else {
    const vals = levelsOf(img.data);
    for (let i = 0; i < out.data.length; i++) {
      const v = Math.min(1, Math.max(0, Math.round((img.data[i] as number) * 255) / 255));
      out.data[i] = (out.data[i] as number) + (samplePoisson(rng, v * vals) / vals - v) * scale;
    }
  }
  return out;
}

/** JPEG encode/decode round trip through sharp (libjpeg-turbo, 4:2:0 chroma). */
export async function jpegRoundTrip(img: PlanarImage, quality: number): Promise<PlanarImage> {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const bytes = toInterleavedU8(img);
  const encoded = await sharp(bytes, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality: q }).toBuffer();
  const { data, info } = await sharp(encoded).raw().toBuffer({ resolveWithObject: true });
  return fromInterleavedU8(data, info.width, info.height, info.channels);
}

/** What happened to one sample; kept so a dataset can be audited. */
export interface DegradationLog {
  preset: string;
  steps: string[];
}

function randomResize(img: PlanarImage, rng: Rng, p: StageParams, baseW: number, baseH: number, log: string[]): PlanarImage {
  const kind = choice(rng, p.resizeProb);
  const s = kind === 0 ? uniform(rng, [1, p.resizeRange[1]]) : kind === 1 ? uniform(rng, [p.resizeRange[0], 1]) : 1;
  const mode = RESIZE_MODES[rng.int(0, RESIZE_MODES.length)] ?? 'bilinear';
  const w = Math.max(2, Math.round(baseW * s));
  const h = Math.max(2, Math.round(baseH * s));
  log.push(`resize ${s.toFixed(3)} ${mode} → ${w}x${h}`);
  return resize(img, w, h, mode);
}

function randomNoise(img: PlanarImage, rng: Rng, p: StageParams, log: string[]): PlanarImage {
  const gray = rng.uniform() < p.grayNoiseProb;
  if (rng.uniform() < p.gaussianNoiseProb) {
    const sigma = uniform(rng, p.noiseRange);
    log.push(`gaussian σ=${sigma.toFixed(2)}${gray ? ' grey' : ''}`);
    return addGaussianNoise(img, rng, sigma / 255, gray);
  }
  const scale = uniform(rng, p.poissonScaleRange);
  log.push(`poisson scale=${scale.toFixed(3)}${gray ? ' grey' : ''}`);
  return addPoissonNoise(img, rng, scale, gray);
}

async function randomJpeg(img: PlanarImage, rng: Rng, p: StageParams, log: string[]): Promise<PlanarImage> {
  const q = uniform(rng, p.jpegRange);
  log.push(`jpeg q=${Math.round(q)}`);
  return jpegRoundTrip(clamp01InPlace(img), q);
}

/**
 * Degrade a clean RGB image (values in [0, 1]) into its low-resolution counterpart of size
 * round(W / scale) × round(H / scale). Deterministic given the RNG state.
 */
export async function degrade(
  hr: PlanarImage,
  rng: Rng,
  scale: number,
  preset: DegradationPreset = STABLESR_PRESET,
): Promise<{ lr: PlanarImage; log: DegradationLog }> {
  if (hr.channels !== 3) throw new RangeError('degrade expects RGB');
  const outW = Math.max(1, Math.round(hr.width / scale));
  const outH = Math.max(1, Math.round(hr.height / scale));
  const steps: string[] = [];
  const s1 = preset.stage1;
  const s2 = preset.stage2;

  let img = hr;
  if (rng.uniform() < s1.blurProb) {
    const k = drawBlurKernel(rng, s1.kernel, s1.kernelMaxSize, s1.sincProb);
    steps.push(`blur1 ${k.size}`);
    img = filter2d(img, k);
  }
  img = randomResize(img, rng, s1, hr.width, hr.height, steps);
  img = randomNoise(img, rng, s1, steps);
  img = await randomJpeg(img, rng, s1, steps);

  if (rng.uniform() < s2.blurProb) {
    const k = drawBlurKernel(rng, s2.kernel, s2.kernelMaxSize, s2.sincProb);
    steps.push(`blur2 ${k.size}`);
    img = filter2d(img, k);
  }
  img = randomResize(img, rng, s2, outW, outH, steps);
  img = randomNoise(img, rng, s2, steps);

  // final sinc: Real-ESRGAN draws its size from the stage-1 kernel range and ω_c ∈ [π/3, π]
  const finalKernel =
    rng.uniform() < preset.finalSincProb
      ? sincKernel(drawKernelSize(rng, s1.kernelMaxSize), Math.PI / 3 + ((2 * Math.PI) / 3) * rng.uniform())
      : pulseKernel();
  const mode = RESIZE_MODES[rng.int(0, RESIZE_MODES.length)] ?? 'bilinear';
  const resizeAndSinc = (x: PlanarImage): PlanarImage => filter2d(resize(x, outW, outH, mode), finalKernel);
  if (rng.uniform() < 0.5) {
    steps.push(`final resize ${mode} + sinc ${finalKernel.size}, then jpeg`);
    img = resizeAndSinc(img);
    img = await randomJpeg(img, rng, s2, steps);
  } else {
    steps.push(`final jpeg, then resize ${mode} + sinc ${finalKernel.size}`);
    img = await randomJpeg(img, rng, s2, steps);
    img = resizeAndSinc(img);
  }
  const lr = quantize8InPlace(clamp01InPlace(img));
  return { lr, log: { preset: preset.name, steps } };
}
