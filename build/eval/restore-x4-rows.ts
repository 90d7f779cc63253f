/**
 * Rows shared by the restore ×4 validation choice (build/restore/restore-val.ts) and the held-out
 * restore ×4 evaluation (restore-x4-eval.ts): the classic baselines that need no model, and a
 * candidate pack opened from any folder beside the installed backbone.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unsharpInPlace } from '../../core/image/unsharp.ts';
import type { PackModel } from '../../electron/engine/packs/registry.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { createImage } from '../../training/data/image.ts';
import { DEFAULT_PACKS_DIR, openPacks } from './pack-rows.ts';

/** Lanczos-3 kernel (a = 3). */
function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (Math.abs(x) >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/** Resample one plane along rows or columns with normalised taps; edges clamp. */
function pass(src: Float32Array, w: number, h: number, outLen: number, horizontal: boolean, taps: (o: number) => { i0: number; wts: number[] }): Float32Array {
  const ow = horizontal ? outLen : w;
  const oh = horizontal ? h : outLen;
  const inLen = horizontal ? w : h;
  const out = new Float32Array(ow * oh);
  for (let o = 0; o < outLen; o++) {
    const { i0, wts } = taps(o);
    for (let line = 0; line < (horizontal ? h : w); line++) {
      let acc = 0;
      for (let k = 0; k < wts.length; k++) {
        const i = Math.min(inLen - 1, Math.max(0, i0 + k));
        acc += (wts[k] as number) * (src[horizontal ? line * w + i : i * w + line] as number);
      }
      out[horizontal ? line * ow + o : o * ow + line] = acc;
    }
  }
  return out;
}

function lanczosTaps(inLen: number, outLen: number): (o: number) => { i0: number; wts: number[] } {
  const s = inLen / outLen;
  return (o) => {
    // pixel centres aligned (the half-pixel convention the bicubic row and the data sets use)
    const x = (o + 0.5) * s - 0.5;
    const i0 = Math.floor(x) - 2;
    const wts: number[] = [];
    for (let k = 0; k < 6; k++) wts.push(lanczos3(x - (i0 + k)));
    const sum = wts.reduce((a, b) => a + b, 0);
    return { i0, wts: wts.map((v) => v / sum) };
  };
}

/**
 * Lanczos-3 upscale, then an unsharp mask out = up + amount·(up − gauss_sigma(up)), clamped to
 * [0, 1]: the classic "enlarge and sharpen" of a photo editor (amount 0 = Lanczos alone). sigma
 * and amount are chosen on the training data's validation split (build/restore/restore-val.ts).
 */
export function lanczosUnsharp(lr: PlanarImage, scale: number, sigma: number, amount: number): PlanarImage {
  const W = lr.width * scale;
  const H = lr.height * scale;
  const out = createImage(W, H, lr.channels);
  const n = lr.width * lr.height;
  for (let c = 0; c < lr.channels; c++) {
    const plane = lr.data.subarray(c * n, (c + 1) * n);
    const wide = pass(Float32Array.from(plane), lr.width, lr.height, W, true, lanczosTaps(lr.width, W));
    const up = pass(wide, W, lr.height, H, false, lanczosTaps(lr.height, H));
    // the same mask a restore pack's manifest can name (core/image/unsharp.ts)
    if (amount > 0 && sigma > 0) unsharpInPlace({ data: up, shape: [1, 1, H, W] }, { sigma, amount });
    for (let i = 0; i < W * H; i++) {
      const v = up[i] as number;
      out.data[c * W * H + i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return out;
}

/** A pack folder opened outside native-models/: staged with a copy of the installed backbone it names. */
export interface StagedPack {
  model: PackModel;
  name: string;
  version: string;
  close(): Promise<void>;
}

/**
 * Open the pack in `dir` (a folder with manifest.json). The registry resolves an adapter's backbone
 * by name within its scanned folders and skips symlinked folders, so both are copied into a
 * private temporary folder (a few MB) that close() removes.
 */
export async function openStagedPack(dir: string, threads = 1, packsDir: string = DEFAULT_PACKS_DIR): Promise<StagedPack> {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { name: string; version: string; backbone?: { pack: string } };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'codi-staged-'));
  cpSync(dir, path.join(tmp, manifest.name), { recursive: true, dereference: true });
  if (manifest.backbone) cpSync(path.join(packsDir, manifest.backbone.pack), path.join(tmp, manifest.backbone.pack), { recursive: true, dereference: true });
  const src = await openPacks(tmp, threads);
  const rec = src.records.find((r) => r.name === manifest.name);
  if (!rec || rec.status !== 'ok') {
    await src.close();
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`pack in ${dir} is not usable: ${rec?.problem ?? 'not found'}`);
  }
  const model = await src.registry.load(manifest.name);
  return {
    model,
    name: manifest.name,
    version: manifest.version,
    async close() {
      await src.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
