/**
 * Synthetic before/after folders for tests: smooth procedural "photos" and a hidden look
 * (warm colour grade + vignette) that the trainer never sees as code, only as pairs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../core/rng.ts';

/** A smooth random RGB image (sum of a few oriented sinusoids per channel), interleaved u8. */
export function proceduralImage(width: number, height: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const waves = Array.from({ length: 3 }, () =>
    Array.from({ length: 3 }, () => ({ fx: (rng.uniform() - 0.5) * 0.2, fy: (rng.uniform() - 0.5) * 0.2, ph: rng.uniform() * 6.283, a: 0.15 + rng.uniform() * 0.2 })),
  );
  const base = [rng.uniform(), rng.uniform(), rng.uniform()].map((v) => 0.25 + 0.5 * v);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        let v = base[c]!;
        for (const w of waves[c]!) v += w.a * Math.sin(w.fx * x + w.fy * y + w.ph);
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
  return out;
}

/** The hidden look: warm grade (R up, B down, slight contrast) and a radial vignette. */
export function applyLook(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  const gain = [1.12, 1.0, 0.82];
  const lift = [0.03, 0.0, -0.02];
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const rmax = Math.hypot(cx, cy);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const r = Math.hypot(x - cx, y - cy) / rmax;
      const vig = 1 - 0.35 * r * r;
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        let v = rgb[i]! / 255;
        v = (v - 0.5) * 1.1 + 0.5;
        v = (v * gain[c]! + lift[c]!) * vig;
        out[i] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
    }
  return out;
}

/** Write `n` pairs `pair-XX.png` / `pair-XX.edited.png` of `side`² into `dir`. */
export async function writeSyntheticPairs(dir: string, n: number, side = 80, seed = 7): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `pair-${String(i).padStart(2, '0')}`;
    const before = proceduralImage(side, side, seed * 1000 + i);
    const raw = { width: side, height: side, channels: 3 as const };
    await sharp(before, { raw }).png().toFile(path.join(dir, `${name}.png`));
    await sharp(applyLook(before, side, side), { raw }).png().toFile(path.join(dir, `${name}.edited.png`));
    names.push(name);
  }
  return names;
}

/** A planted corrupt pair: a valid before and a truncated JPEG after. */
export async function writeCorruptPair(dir: string, name: string, side = 80): Promise<void> {
  const raw = { width: side, height: side, channels: 3 as const };
  const img = proceduralImage(side, side, 99);
  await sharp(img, { raw }).png().toFile(path.join(dir, `${name}.png`));
  const jpg = await sharp(img, { raw }).jpeg().toBuffer();
  await writeFile(path.join(dir, `${name}_edited.jpg`), jpg.subarray(0, Math.floor(jpg.length / 3)));
}
