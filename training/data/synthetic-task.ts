/**
 * A small synthetic CONDITIONAL task for CI: smooth random images (a colour gradient plus a
 * few soft-edged ellipses and rectangles) and, as the condition, a degraded copy (3×3 binomial
 * blur, ×2 area downsampling, Gaussian noise, 8-bit quantisation): a ×2 restoration task.
 * It is written in the on-disk dataset format of CONVENTIONS.md, so the trainer reads it with
 * the same reader as real data.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../core/rng.ts';

export interface SyntheticTaskOptions {
  /** Output folder (created). */
  dir: string;
  /** Square target size in pixels; a multiple of 8 (latent ×4, then ×2 downsampling). */
  size?: number;
  train?: number;
  val?: number;
  seed?: number;
  /** Std of the additive noise on the low-res input, in [0, 1] units. */
  noiseStd?: number;
}

/** HWC float RGB in [0, 1]. */
interface RgbImage {
  w: number;
  h: number;
  data: Float32Array;
}

const smoothstep = (e: number) => (e <= 0 ? 0 : e >= 1 ? 1 : e * e * (3 - 2 * e));

function randomColour(rng: Rng): [number, number, number] {
  return [rng.uniform(), rng.uniform(), rng.uniform()];
}

/** Gradient background and 1–3 soft shapes; anti-aliased edges keep the images smooth. */
export function renderSyntheticImage(rng: Rng, size: number): RgbImage {
  const data = new Float32Array(size * size * 3);
  const c0 = randomColour(rng);
  const c1 = randomColour(rng);
  const angle = rng.uniform() * 2 * Math.PI;
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = smoothstep(0.5 + ((x / size - 0.5) * dx + (y / size - 0.5) * dy));
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = c0[c]! * (1 - u) + c1[c]! * u;
    }
  }
  const shapes = rng.int(1, 4);
  for (let k = 0; k < shapes; k++) {
    const col = randomColour(rng);
    const cx = rng.uniform() * size;
    const cy = rng.uniform() * size;
    const rx = (0.1 + 0.25 * rng.uniform()) * size;
    const ry = (0.1 + 0.25 * rng.uniform()) * size;
    const rect = rng.uniform() < 0.5;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const px = (x + 0.5 - cx) / rx;
        const py = (y + 0.5 - cy) / ry;
        // signed distance in (approximate) pixels; coverage ramps over ~1.5 px
        const d = rect ? (Math.max(Math.abs(px), Math.abs(py)) - 1) * Math.min(rx, ry) : (Math.hypot(px, py) - 1) * Math.min(rx, ry);
        const cover = smoothstep(0.5 - d / 1.5);
        if (cover === 0) continue;
        const o = (y * size + x) * 3;
        for (let c = 0; c < 3; c++) data[o + c] = data[o + c]! * (1 - cover) + col[c]! * cover;
      }
    }
  }
  return { w: size, h: size, data };
}

/** 3×3 binomial blur (edge-clamped), then 2×2 area downsampling, then N(0, σ²) noise, clamped. */
export function degradeX2(img: RgbImage, rng: Rng, noiseStd: number): RgbImage {
  const { w, h, data } = img;
  const k = [0.25, 0.5, 0.25];
  const at = (x: number, y: number, c: number) => data[(Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * 3 + c]!;
  const blurred = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let j = -1; j <= 1; j++) for (let i = -1; i <= 1; i++) acc += k[j + 1]! * k[i + 1]! * at(x + i, y + j, c);
        blurred[(y * w + x) * 3 + c] = acc;
      }
    }
  }
  const lw = w / 2;
  const lh = h / 2;
  const out = new Float32Array(lw * lh * 3);
  for (let y = 0; y < lh; y++) {
    for (let x = 0; x < lw; x++) {
      for (let c = 0; c < 3; c++) {
        const b = (yy: number, xx: number) => blurred[(yy * w + xx) * 3 + c]!;
        const v = 0.25 * (b(2 * y, 2 * x) + b(2 * y, 2 * x + 1) + b(2 * y + 1, 2 * x) + b(2 * y + 1, 2 * x + 1));
        out[(y * lw + x) * 3 + c] = Math.min(1, Math.max(0, v + noiseStd * rng.normal()));
      }
    }
  }
  return { w: lw, h: lh, data: out };
}

/** An 8-bit PNG encoder for a float image (clamped to [0, 1]). */
function rgbPng(img: RgbImage): sharp.Sharp {
  const bytes = Buffer.alloc(img.data.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, img.data[i]!)) * 255);
  return sharp(bytes, { raw: { width: img.w, height: img.h, channels: 3 } }).png();
}

async function writeRgbPng(img: RgbImage, file: string): Promise<void> {
  await rgbPng(img).toFile(file);
}

/** Write the dataset (dataset.json + items.jsonl + PNGs) and return its folder. */
export async function writeSyntheticRestoreTask(opts: SyntheticTaskOptions): Promise<string> {
  const size = opts.size ?? 32;
  if (size % 8 !== 0) throw new Error(`synthetic size must be a multiple of 8, got ${size}`);
  const nTrain = opts.train ?? 256;
  const nVal = opts.val ?? 16;
  const noiseStd = opts.noiseStd ?? 0.02;
  const rng = new Rng(opts.seed ?? 1234);
  await mkdir(path.join(opts.dir, 'target'), { recursive: true });
  await mkdir(path.join(opts.dir, 'input'), { recursive: true });
  const lines: string[] = [];
  for (let n = 0; n < nTrain + nVal; n++) {
    const split = n < nTrain ? 'train' : 'val';
    const name = `${String(n).padStart(5, '0')}.png`;
    const hi = renderSyntheticImage(rng, size);
    const lo = degradeX2(hi, rng, noiseStd);
    await writeRgbPng(hi, path.join(opts.dir, 'target', name));
    await writeRgbPng(lo, path.join(opts.dir, 'input', name));
    lines.push(JSON.stringify({ split, target: `target/${name}`, input: `input/${name}`, scale: 2 }));
  }
  const meta = {
    task: 'restore',
    size: [size, size],
    sources: [{ name: 'synthetic shapes and gradients', licence: 'generated by training/data/synthetic-task.ts (no third-party content)', count: nTrain + nVal }],
  };
  await writeFile(path.join(opts.dir, 'dataset.json'), JSON.stringify(meta, null, 2) + '\n');
  await writeFile(path.join(opts.dir, 'items.jsonl'), lines.join('\n') + '\n');
  return opts.dir;
}

/** The 8-bit PNG of a rendered image (what a data set stores as its target). */
export function syntheticPng(rng: Rng, size: number): Promise<Buffer> {
  return rgbPng(renderSyntheticImage(rng, size)).toBuffer();
}

/**
 * A clean ×4 restoration set of synthetic images: each input is sharp's cubic ×4 downscale of the
 * 8-bit target, exactly as training/data/clean-twin.ts makes a photo set's inputs. The replication
 * harness trains its CI-size rows on it, so `npm test` needs no photo packages installed.
 */
export async function writeSyntheticCleanX4Task(opts: { dir: string; size: number; count: number; valFraction: number; seed: number }): Promise<string> {
  if (opts.size % 16 !== 0) throw new Error(`synthetic ×4 size must be a multiple of 16, got ${opts.size}`);
  const rng = new Rng(opts.seed);
  await mkdir(path.join(opts.dir, 'target'), { recursive: true });
  await mkdir(path.join(opts.dir, 'input'), { recursive: true });
  const nVal = Math.max(1, Math.round(opts.count * opts.valFraction));
  const lines: string[] = [];
  for (let n = 0; n < opts.count; n++) {
    const name = `${String(n).padStart(6, '0')}.png`;
    const target = await syntheticPng(rng, opts.size);
    await writeFile(path.join(opts.dir, 'target', name), target);
    await sharp(target).resize(opts.size / 4, opts.size / 4, { kernel: 'cubic' }).png().toFile(path.join(opts.dir, 'input', name));
    lines.push(JSON.stringify({ split: n < opts.count - nVal ? 'train' : 'val', target: `target/${name}`, input: `input/${name}`, scale: 4 }));
  }
  const meta = {
    task: 'restore',
    size: [opts.size, opts.size],
    sources: [{ name: 'synthetic shapes and gradients (clean ×4)', licence: 'generated by training/data/synthetic-task.ts (no third-party content)', count: opts.count }],
  };
  await writeFile(path.join(opts.dir, 'dataset.json'), JSON.stringify(meta, null, 2) + '\n');
  await writeFile(path.join(opts.dir, 'items.jsonl'), lines.join('\n') + '\n');
  return opts.dir;
}
