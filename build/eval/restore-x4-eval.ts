/**
 * Held-out restore ×4 evaluation (issue 20, "Restore"): two sections on the same held-out crops
 * (build/eval/heldout.ts: packages no training set draws from), the two kinds of photo users bring:
 *   clean:    the crop bicubic-downscaled ×4 and saved as JPEG q95 (build/restore/clean-jpeg.ts),
 *   degraded: the held-out set's real-world ×4 inputs (blur, resize, noise, JPEG; two stages).
 * Rows: bicubic, Lanczos-3 alone and with the unsharp mask chosen on the training data's val split,
 * every @upscalerjs ESRGAN package installed, and each --pack folder (label=DIR) over --seeds seeds
 * (mean, and the spread of the per-seed means). Measures: PSNR (RGB, border 4), SSIM, GMSD, time;
 * with --features, the nsfwjs network's paired feature L2 and Fréchet distance.
 *
 *   npx tsx build/eval/restore-x4-eval.ts --pack "previous=DIR" --pack "new=DIR[:sampler:steps]" [--seeds 3]
 *        [--usm 0.5:0.5] [--limit N] [--features none|mobilenet|inception] [--out bench/results/NAME]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SamplerKind } from '../../core/samplers/index.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { CLEAN_JPEG_QUALITY, cleanJpegLowRes } from '../restore/clean-jpeg.ts';
import { bicubicUpscale } from './convert.ts';
import { ESRGAN_PACKAGES, isInstalled, loadEsrganPeer } from './esrgan-peer.ts';
import { featureDistances, loadFeatureExtractor } from './feature-distance.ts';
import type { FeatureExtractor } from './feature-distance.ts';
import { ensureHeldoutSet, loadPair } from './heldout.ts';
import { gmsd, psnr, ssim } from './metrics.ts';
import { restoreWithPack } from './pack-rows.ts';
import { lanczosUnsharp, openStagedPack } from './restore-x4-rows.ts';
import { initEvalBackend } from './tfjs-local.ts';

const SCALE = 4;

export interface X4Row {
  label: string;
  source: string;
  psnr: number;
  ssim: number;
  gmsd: number;
  /** PSNR − bicubic's on the same crops */
  gain: number;
  /** per-seed mean PSNR (model rows; one entry for deterministic rows) */
  seedPsnr: number[];
  featureL2: number | null;
  frechet: number | null;
  msPerImage: number;
}

export interface X4Section {
  name: 'clean' | 'degraded';
  input: string;
  rows: X4Row[];
}

interface Pair {
  hr: PlanarImage;
  lr: PlanarImage;
}

type Upscale = (lr: PlanarImage, index: number, seed: number) => Promise<PlanarImage>;

async function measure(label: string, source: string, up: Upscale, pairs: readonly Pair[], seeds: number, features: FeatureExtractor | null, hrFeat: readonly Float32Array[]): Promise<Omit<X4Row, 'gain'>> {
  await up((pairs[0] as Pair).lr, 0, 0);
  let p = 0;
  let s = 0;
  let g = 0;
  let ms = 0;
  const seedPsnr: number[] = [];
  let l2 = 0;
  let fr = 0;
  for (let seed = 0; seed < seeds; seed++) {
    let ps = 0;
    const feats: Float32Array[] = [];
    for (const [i, pair] of pairs.entries()) {
      const t0 = performance.now();
      const out = await up(pair.lr, i, seed);
      ms += performance.now() - t0;
      const v = psnr(out, pair.hr, { border: SCALE });
      ps += v;
      s += ssim(out, pair.hr, { border: SCALE });
      g += gmsd(out, pair.hr);
      if (features) feats.push(...(await features.extract([out])));
    }
    seedPsnr.push(ps / pairs.length);
    p += ps;
    if (features) {
      const fd = featureDistances(feats, hrFeat);
      l2 += fd.pairedL2;
      fr += fd.frechet ?? Number.NaN;
    }
  }
  const n = pairs.length * seeds;
  return { label, source, psnr: p / n, ssim: s / n, gmsd: g / n, seedPsnr, featureL2: features ? l2 / seeds : null, frechet: features ? fr / seeds : null, msPerImage: ms / n };
}

export interface PackSpec {
  label: string;
  dir: string;
  sampler?: { kind: SamplerKind; steps: number };
}

export async function runRestoreX4Eval(opts: { packs: PackSpec[]; seeds: number; usm: [number, number]; limit?: number; features: 'none' | 'mobilenet' | 'inception'; baselines: boolean; log: (s: string) => void }): Promise<{ sections: X4Section[]; crops: number; photos: number; notes: string[]; featureNetwork: string }> {
  const notes: string[] = [];
  notes.push(`tfjs backend: ${await initEvalBackend(opts.log)}`);
  const set = await ensureHeldoutSet({ degradation: 'realworld', cropsPerPhoto: 1, scales: [2, 4], log: opts.log });
  const crops = opts.limit !== undefined ? set.crops.slice(0, opts.limit) : set.crops;
  const features = opts.features === 'none' ? null : await loadFeatureExtractor(opts.features);
  const degraded: Pair[] = [];
  const clean: Pair[] = [];
  for (const c of crops) {
    const { hr, lr } = await loadPair(set, c, SCALE);
    degraded.push({ hr, lr });
    clean.push({ hr, lr: await cleanJpegLowRes(hr, SCALE) });
  }
  const hrFeat = features ? await features.extract(degraded.map((p) => p.hr)) : [];
  const staged = [];
  for (const spec of opts.packs) staged.push({ spec, pack: await openStagedPack(spec.dir) });
  const sections: X4Section[] = [];
  try {
    for (const [name, pairs, input] of [
      ['clean', clean, `bicubic ×${SCALE} downscale (antialiased) + JPEG q${CLEAN_JPEG_QUALITY}`],
      ['degraded', degraded, 'real-world degradation (training/data/degrade.ts, StableSR test preset), seeded per crop'],
    ] as const) {
      const rows: Omit<X4Row, 'gain'>[] = [];
      opts.log(`${name}: bicubic`);
      rows.push(await measure('bicubic', 'core bicubic (a = −0.5)', async (lr) => bicubicUpscale(lr, SCALE), pairs, 1, features, hrFeat));
      const [sigma, amount] = opts.usm;
      if (opts.baselines) {
        rows.push(await measure('Lanczos-3', 'build/eval/restore-x4-rows.ts', async (lr) => lanczosUnsharp(lr, SCALE, 0, 0), pairs, 1, features, hrFeat));
        rows.push(await measure(`Lanczos-3 + unsharp mask (σ ${sigma}, amount ${amount})`, 'σ and amount chosen on the val split', async (lr) => lanczosUnsharp(lr, SCALE, sigma, amount), pairs, 1, features, hrFeat));
      }
      for (const pkg of opts.baselines ? ESRGAN_PACKAGES : []) {
        const label = pkg.replace('@upscalerjs/', '');
        if (!isInstalled(pkg)) {
          notes.push(`${label}: not installed, no row`);
          continue;
        }
        opts.log(`${name}: ${label}`);
        const peer = await loadEsrganPeer(pkg, SCALE);
        try {
          rows.push(await measure(label, `${pkg}@${peer.version}: ${peer.about}`, async (lr) => peer.upscale(lr), pairs, 1, features, hrFeat));
        } finally {
          peer.dispose();
        }
      }
      for (const { spec, pack } of staged) {
        const m = pack.model.manifest;
        const kind = spec.sampler?.kind ?? m.sampler.kind;
        const steps = spec.sampler?.steps ?? m.sampler.steps;
        opts.log(`${name}: ${spec.label} (${pack.name}, ${kind} ${steps})`);
        rows.push(await measure(spec.label, `${pack.name} ${pack.version}, ${kind} ${steps} step(s)`, (lr, i, seed) => restoreWithPack(pack.model, lr, kind, steps, 1234 + 1000 * seed + i), pairs, opts.seeds, features, hrFeat));
      }
      const bic = (rows[0] as Omit<X4Row, 'gain'>).psnr;
      sections.push({ name, input, rows: rows.map((r) => ({ ...r, gain: r.psnr - bic })) });
    }
  } finally {
    for (const { pack } of staged) await pack.close();
    features?.dispose();
  }
  return { sections, crops: crops.length, photos: new Set(crops.map((c) => c.photo)).size, notes, featureNetwork: features?.network ?? 'none' };
}

/** Rows of run `a` then those of `b` not labelled alike, per section; both must cover the same crops and feature network. */
export function mergeRuns(a: Awaited<ReturnType<typeof runRestoreX4Eval>>, b: Awaited<ReturnType<typeof runRestoreX4Eval>>): Awaited<ReturnType<typeof runRestoreX4Eval>> {
  if (a.crops !== b.crops || a.featureNetwork !== b.featureNetwork) throw new Error('runs to merge differ in crops or feature network');
  const sections = a.sections.map((sa) => {
    const sb = b.sections.find((x) => x.name === sa.name);
    const bicA = sa.rows.find((x) => x.label === 'bicubic');
    const bicB = sb?.rows.find((x) => x.label === 'bicubic');
    if (bicA && bicB && Math.abs(bicA.psnr - bicB.psnr) > 1e-9) throw new Error(`section ${sa.name}: the runs' bicubic rows differ (different inputs)`);
    return { ...sa, rows: [...sa.rows, ...(sb?.rows ?? []).filter((r) => !sa.rows.some((x) => x.label === r.label))] };
  });
  return { ...a, sections, notes: [...new Set([...a.notes, ...b.notes])] };
}

const f = (x: number | null, d: number): string => (x === null ? '—' : x.toFixed(d));

export function renderX4Markdown(r: Awaited<ReturnType<typeof runRestoreX4Eval>>, seeds: number, wallSeconds: number): string {
  const lines: string[] = [];
  lines.push(`Held-out: ${r.crops} crops of 256² from ${r.photos} photos (packages no training set draws from); ×4 inputs 64². Model rows: ${seeds} seeds (z_T = τ·ε at each pack's start temperature τ; at τ = 0 every seed gives the same result), mean; spread = min–max of the per-seed means. ${os.cpus()[0]?.model ?? '?'}, ${os.availableParallelism()} cores shared with other jobs (times are indicative only). Feature network: ${r.featureNetwork}. Wall ${wallSeconds.toFixed(0)} s.`);
  for (const s of r.sections) {
    lines.push('', `### ${s.name} inputs: ${s.input}`, '');
    lines.push('| row | PSNR dB | vs bicubic | SSIM | GMSD ↓ | feature L2 ↓ | Fréchet ↓ | seed spread dB | ms/image | source |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const row of s.rows) {
      const spread = row.seedPsnr.length > 1 ? `${Math.min(...row.seedPsnr).toFixed(3)}–${Math.max(...row.seedPsnr).toFixed(3)}` : '—';
      lines.push(`| ${row.label} | ${row.psnr.toFixed(2)} | ${row.gain >= 0 ? '+' : ''}${row.gain.toFixed(2)} | ${row.ssim.toFixed(4)} | ${row.gmsd.toFixed(4)} | ${f(row.featureL2, 2)} | ${f(row.frechet, 1)} | ${spread} | ${row.msPerImage.toFixed(0)} | ${row.source} |`);
    }
  }
  if (r.notes.length) lines.push('', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

if (process.argv[1]?.endsWith('restore-x4-eval.ts')) {
  const { values: v } = parseArgs({
    options: {
      pack: { type: 'string', multiple: true, default: [] },
      seeds: { type: 'string', default: '3' },
      usm: { type: 'string', default: '0.5:0.5' },
      limit: { type: 'string' },
      features: { type: 'string', default: 'none' },
      'no-baselines': { type: 'boolean', default: false },
      merge: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const packs: PackSpec[] = (v.pack ?? []).map((s) => {
    const eq = s.indexOf('=');
    if (eq < 1) throw new Error(`--pack takes LABEL=DIR[:sampler:steps], got "${s}"`);
    const [dir, kind, steps] = s.slice(eq + 1).split(':');
    return { label: s.slice(0, eq), dir: dir as string, ...(kind ? { sampler: { kind: kind as SamplerKind, steps: Number(steps ?? 1) } } : {}) };
  });
  const [sigma, amount] = (v.usm ?? '0.5:0.5').split(':').map(Number);
  const features = v.features as 'none' | 'mobilenet' | 'inception';
  if (!['none', 'mobilenet', 'inception'].includes(features)) throw new Error('--features is none, mobilenet or inception');
  const t0 = performance.now();
  const seeds = Number(v.seeds);
  let r = await runRestoreX4Eval({ packs, seeds, usm: [sigma ?? 0.5, amount ?? 0.5], ...(v.limit ? { limit: Number(v.limit) } : {}), features, baselines: !v['no-baselines'], log: (s) => console.error(s) });
  // --merge: an earlier run's rows (e.g. the slow peers, measured once) go first; bicubic is kept once
  for (const file of v.merge ? v.merge.split(',') : []) r = mergeRuns(JSON.parse(readFileSync(file, 'utf8')) as typeof r, r);
  const md = renderX4Markdown(r, seeds, (performance.now() - t0) / 1000);
  if (v.out) {
    mkdirSync(path.dirname(v.out), { recursive: true });
    writeFileSync(`${v.out}.json`, `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(`${v.out}.md`, md);
  }
  process.stdout.write(md);
}
