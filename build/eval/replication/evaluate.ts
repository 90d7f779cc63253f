/**
 * Evaluation of the replication's packs on held-out photos (opencv-doc, plasma-workspace-wallpapers:
 * the run-eval set, never trained on). Each held-out 256 px crop is resized to the scale's size and
 * its input is made exactly as the clean training twin made its inputs (training/data/clean-twin.ts:
 * sharp's cubic ×4 downscale of the 8-bit target). Every (seed, row, sampler, steps) result is cached
 * as JSON beside the packs, so an interrupted evaluation continues where it stopped.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { OrtRuntime } from '../../../electron/engine/ort.ts';
import { PackRegistry } from '../../../electron/engine/packs/registry.ts';
import type { PackModel } from '../../../electron/engine/packs/registry.ts';
import type { PlanarImage } from '../../../training/data/image.ts';
import { Rng } from '../../../core/rng.ts';
import { syntheticPng } from '../../../training/data/synthetic-task.ts';
import { bicubicUpscale, decode } from '../convert.ts';
import type { FeatureExtractor } from '../feature-distance.ts';
import { featureDistances, loadFeatureExtractor } from '../feature-distance.ts';
import { DEFAULT_EVAL_CACHE, ensureHeldoutSet, quickSubset } from '../heldout.ts';
import { gmsd, psnr, ssim } from '../metrics.ts';
import { restoreWithPack } from '../pack-rows.ts';
import { initEvalBackend } from '../tfjs-local.ts';
import type { ReplicationOptions } from './options.ts';
import type { ReplicationScale, RowId, SamplerSpec } from './plan.ts';
import { SCALES, SYNTHETIC_SEEDS, packDir, rowsAt, samplersFor, scaleRoot, seedDir } from './plan.ts';
import { buildReport, writeReport } from './report.ts';
import type { ConfigResult, SeedResults } from './results.ts';

export type { ConfigResult, SeedResults } from './results.ts';

export interface EvalPair {
  id: string;
  hr: PlanarImage;
  lr: PlanarImage;
}



/** The held-out pairs at `size` px: HR = the crop resized (cubic), LR = its clean ×4 downscale as the training twin makes it. */
export async function heldoutPairs(scale: ReplicationScale, log: (s: string) => void): Promise<EvalPair[]> {
  const sc = SCALES[scale];
  if (sc.data === 'synthetic') return syntheticPairs(sc.evalCrops, sc.evalSize);
  const set = await ensureHeldoutSet({ log });
  const crops = sc.evalCrops > 0 ? quickSubset(set, sc.evalCrops) : set.crops;
  const out: EvalPair[] = [];
  for (const c of crops) {
    const hrPng = await sharp(path.join(DEFAULT_EVAL_CACHE, c.hr)).removeAlpha().resize(sc.evalSize, sc.evalSize, { kernel: 'cubic' }).png().toBuffer();
    const lrPng = await sharp(hrPng).resize(sc.evalSize / 4, sc.evalSize / 4, { kernel: 'cubic' }).png().toBuffer();
    out.push({ id: c.id, hr: await decode(hrPng), lr: await decode(lrPng) });
  }
  return out;
}

/** Synthetic "held-out" pairs for the CI scale: images from a seed the training set never used. */
async function syntheticPairs(count: number, size: number): Promise<EvalPair[]> {
  const rng = new Rng(SYNTHETIC_SEEDS.evaluation);
  const out: EvalPair[] = [];
  for (let i = 0; i < count; i++) {
    const hrPng = await syntheticPng(rng, size);
    const lrPng = await sharp(hrPng).resize(size / 4, size / 4, { kernel: 'cubic' }).png().toBuffer();
    out.push({ id: `synthetic-${i}`, hr: await decode(hrPng), lr: await decode(lrPng) });
  }
  return out;
}

/** Measure one upscaler on all pairs (PSNR/SSIM on RGB with the ×4 border cropped, as run-eval does). */
export async function measure(
  pairs: readonly EvalPair[],
  upscale: (lr: PlanarImage, i: number) => Promise<PlanarImage>,
  features: FeatureExtractor | null,
  hrFeatures: readonly Float32Array[],
): Promise<ConfigResult> {
  const r: ConfigResult = { psnr: [], ssim: [], gmsd: [], frechet: null, featureL2: null, msPerImage: 0 };
  const feats: Float32Array[] = [];
  let ms = 0;
  for (const [i, p] of pairs.entries()) {
    const t0 = performance.now();
    const out = await upscale(p.lr, i);
    ms += performance.now() - t0;
    r.psnr.push(psnr(out, p.hr, { border: 4 }));
    r.ssim.push(ssim(out, p.hr, { border: 4 }));
    r.gmsd.push(gmsd(out, p.hr));
    if (features) feats.push(...(await features.extract([out])));
  }
  r.msPerImage = ms / pairs.length;
  if (features) {
    const fd = featureDistances(feats, hrFeatures);
    r.frechet = fd.frechet;
    r.featureL2 = fd.pairedL2;
  }
  return r;
}

/**
 * The sampler configurations whose feature distances are computed: the claims' configurations only
 * (Inception on TF.js wasm costs seconds per image on this machine, more than everything else).
 */
export function wantsFeatures(row: RowId, s: SamplerSpec): boolean {
  // measured here: 1.5–11 s per 64 px image, depending on the load, so only the one claim that names
  // feature distances (CoDi-4 vs the teacher's DDIM-50), on every seed: the claim compares them
  // with their spread over seeds
  if (row === 'teacher') return s.kind === 'ddim' && s.steps === 50;
  return row === 'codi' && s.kind === 'codi' && s.steps === 4;
}


/** Rename is atomic: a killed evaluation never leaves a truncated cache entry. */
function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

function cached(file: string, make: () => Promise<ConfigResult>): Promise<ConfigResult> {
  if (existsSync(file)) return Promise.resolve(JSON.parse(readFileSync(file, 'utf8')) as ConfigResult);
  return make().then((r) => {
    writeAtomic(file, JSON.stringify(r));
    return r;
  });
}

const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function sampleSeed(seed: number, crop: number): number {
  return 1000 * seed + crop + 1;
}

/** Evaluate every trained pack of every seed (cached), then write the report. */
export async function evaluateReplication(o: ReplicationOptions, data: string): Promise<{ mdPath: string; jsonPath: string }> {
  const sc = SCALES[o.scale];
  const pairs = await heldoutPairs(o.scale, o.log);
  o.log(`evaluating on ${pairs.length} held-out crops (${sc.evalSize} px, clean bicubic ×4 inputs)`);
  await initEvalBackend();
  const features = sc.features ? await loadFeatureExtractor('inception') : null;
  // the held-out targets' features depend only on the crops and their size: shared by the scales
  const hrFile = path.join(o.runsDir, 'replication', 'eval', `heldout-features-${sc.evalSize}px-${pairs.length}.json`);
  let hrFeatures: Float32Array[] = [];
  if (features) {
    if (existsSync(hrFile)) hrFeatures = (JSON.parse(readFileSync(hrFile, 'utf8')) as number[][]).map((f) => Float32Array.from(f));
    else {
      hrFeatures = await features.extract(pairs.map((p) => p.hr));
      writeAtomic(hrFile, JSON.stringify(hrFeatures.map((f) => Array.from(f))));
    }
  }
  const bicubic = await cached(path.join(scaleRoot(o.runsDir, o.scale), 'eval', `bicubic-${pairs.length}-nf.json`), () => measure(pairs, async (lr) => bicubicUpscale(lr, 4), null, []));
  const seeds: SeedResults[] = [];
  const runtime = new OrtRuntime({ providers: ['cpu'], threads: o.threads });
  try {
    for (let seed = o.firstSeed; seed < o.firstSeed + o.seeds; seed++) {
      const dir = seedDir(o.runsDir, o.scale, seed);
      if (!existsSync(path.join(dir, 'packs'))) continue;
      const registry = new PackRegistry(
        [
          { path: path.join(dir, 'packs'), source: 'bundled' },
          { path: path.dirname(o.backbone), source: 'bundled' },
        ],
        runtime,
      );
      const records = await registry.scan();
      const load = async (folder: string): Promise<PackModel | null> => {
        if (!existsSync(path.join(folder, 'manifest.json'))) return null;
        const rec = records.find((r) => r.root === folder || path.basename(r.root) === path.basename(folder));
        if (!rec || rec.status !== 'ok') throw new Error(`pack ${folder}: ${rec?.problem ?? 'not found by the registry'}`);
        return registry.load(rec.name);
      };
      const res: SeedResults = { seed, rows: {}, teacherCurve: [] };
      const finalStage = sc.teacherStages[sc.teacherStages.length - 1]!;
      // the final stage's point comes from the teacher row's own results (below), not a second run
      for (const steps of sc.teacherStages.slice(0, -1)) {
        const model = await load(packDir(o.runsDir, o.scale, seed, 'teacher', steps));
        if (!model) continue;
        const point: { steps: number; ddim1?: number; ddim4: number; ddim50: number } = { steps, ddim4: 0, ddim50: 0 };
        for (const n of sc.samplers === 'ci' ? ([4, 50] as const) : ([1, 4, 50] as const)) {
          const r = await cached(path.join(dir, 'eval', `teacher@${steps}__ddim-${n}.json`), () =>
            measure(pairs, (lr, i) => restoreWithPack(model, lr, 'ddim', n, sampleSeed(seed, i)), null, []),
          );
          if (n === 1) point.ddim1 = meanOf(r.psnr);
          else if (n === 4) point.ddim4 = meanOf(r.psnr);
          else point.ddim50 = meanOf(r.psnr);
        }
        res.teacherCurve.push(point);
        o.log(`seed ${seed} teacher@${steps}: ${point.ddim1 !== undefined ? `DDIM-1 ${point.ddim1.toFixed(2)} dB, ` : ''}DDIM-4 ${point.ddim4.toFixed(2)} dB, DDIM-50 ${point.ddim50.toFixed(2)} dB`);
      }
      for (const row of rowsAt(o.scale)) {
        const folder = row.id === 'teacher' ? packDir(o.runsDir, o.scale, seed, 'teacher', finalStage) : packDir(o.runsDir, o.scale, seed, row.id);
        const model = await load(folder);
        if (!model) continue;
        const table: Record<string, ConfigResult> = {};
        for (const s of samplersFor(row.id, o.scale)) {
          const f = wantsFeatures(row.id, s) ? features : null;
          table[s.label] = await cached(path.join(dir, 'eval', `${row.id}__${s.kind}-${s.steps}${f ? '' : '-nf'}.json`), () =>
            measure(pairs, (lr, i) => restoreWithPack(model, lr, s.kind, s.steps, sampleSeed(seed, i)), f, hrFeatures),
          );
        }
        res.rows[row.id] = table;
        if (row.id === 'teacher' && table['DDIM 4'] && table['DDIM 50']) {
          const d1 = table['DDIM 1'];
          res.teacherCurve.push({ steps: finalStage, ...(d1 ? { ddim1: meanOf(d1.psnr) } : {}), ddim4: meanOf(table['DDIM 4'].psnr), ddim50: meanOf(table['DDIM 50'].psnr) });
        }
        o.log(`seed ${seed} ${row.id}: ${Object.entries(table).map(([k, v]) => `${k} ${meanOf(v.psnr).toFixed(2)}`).join(', ')}`);
      }
      seeds.push(res);
    }
  } finally {
    await runtime.releaseAll();
    features?.dispose();
  }
  const report = buildReport({ scale: o.scale, spec: sc, data: path.relative(path.dirname(o.runsDir), data), pairs: pairs.length, features: features?.network ?? null, bicubic, seeds });
  return writeReport(report, o.resultsDir, o.date, o.scale);
}
