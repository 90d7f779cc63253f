/**
 * `npm run eval`: the evaluation table on held-out photos.
 *
 *   npm run eval -- [--quick] [--scales 2,4] [--degradation realworld|bicubic] [--crops-per-photo N]
 *                   [--limit N] [--no-features] [--packs DIR] [--out DIR] [--threads N] [--seed N]
 *                   [--sections restore,edits,inpaint] [--inpaint-packs DIR[,DIR…]]
 *   npm run eval -- --replication [--scale ci|small|medium|full] [--seeds N] …   (build/eval/replication/main.ts)
 *
 * Rows per scale: bicubic, the npm ESRGAN peers, then every model row whose pack is installed
 * (others are listed as skipped, with why); the edits; inpaint: the classic Telea fill and every
 * installed inpaint pack (and those in the --inpaint-packs folders, e.g. a candidate before it ships) on one
 * seeded mask per crop (build/eval/inpaint-eval.ts). Writes bench/results/eval-<date>[-quick]
 * [-<sections>].json and .md (the suffix when --sections leaves some out) and prints the Markdown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PackModel } from '../../electron/engine/packs/registry.ts';
import { findEditByText } from '../../training/data/edit-instructions.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { bicubicUpscale } from './convert.ts';
import { checkEdit, summariseEdit } from './edit-checks.ts';
import type { EditSummary } from './edit-checks.ts';
import { ESRGAN_PACKAGES, isInstalled, loadEsrganPeer } from './esrgan-peer.ts';
import { featureDistances, loadFeatureExtractor } from './feature-distance.ts';
import type { FeatureExtractor } from './feature-distance.ts';
import { ensureHeldoutSet, loadPair, quickSubset } from './heldout.ts';
import type { DegradationKind, EvalCrop, EvalSet } from './heldout.ts';
import { evalMask, inpaintSection, packRow } from './inpaint-eval.ts';
import type { InpaintCase, InpaintPackRow, InpaintSection } from './inpaint-eval.ts';
import { psnr, ssim } from './metrics.ts';
import { editWithPack, findPack, inpaintWithPack, openPacks, packInstructions, RESTORE_ROWS, restoreWithPack } from './pack-rows.ts';
import type { PackSource } from './pack-rows.ts';
import { checkTargets, renderMarkdown } from './report.ts';
import type { EditsSection, EvalReport, RestoreRow, RestoreTable } from './report.ts';
import { initEvalBackend, packageVersion } from './tfjs-local.ts';

export const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../../bench/results', import.meta.url));

/** Options of {@link runEval}. */
export interface EvalOptions {
  quick?: boolean;
  scales?: readonly number[];
  degradation?: DegradationKind;
  cropsPerPhoto?: number;
  /** use at most this many crops (after the quick subset) */
  limit?: number;
  /** compute the deep-feature distances (default true) */
  features?: boolean;
  packsDir?: string;
  outDir?: string;
  /** ONNX Runtime intra-op threads (default 2: the machine is shared) */
  threads?: number;
  seed?: number;
  /** crops used by the edits section (default: 2 when quick, else 8) */
  editImages?: number;
  /** which sections to run (default all three) */
  sections?: readonly EvalSectionName[];
  /** further packs folders whose inpaint packs get rows too (candidates measured before they ship) */
  inpaintPacksDirs?: readonly string[];
  log?: (line: string) => void;
}

export const EVAL_SECTIONS = ['restore', 'edits', 'inpaint'] as const;
export type EvalSectionName = (typeof EVAL_SECTIONS)[number];

/** Upscale the LR input of image `index` (model rows seed their noise by the index, so every row sees the same z_T per image). */
type Upscaler = (lr: PlanarImage, index: number) => Promise<PlanarImage>;

interface Pair {
  crop: EvalCrop;
  hr: PlanarImage;
  lr: PlanarImage;
}

/** Measure one row: warm-up on the first image, then time every image and score it. */
async function measureRow(
  label: string,
  kind: RestoreRow['kind'],
  source: string,
  upscale: Upscaler,
  pairs: readonly Pair[],
  scale: number,
  features: FeatureExtractor | null,
  hrFeatures: readonly Float32Array[],
): Promise<RestoreRow> {
  await upscale((pairs[0] as Pair).lr, 0);
  let ms = 0;
  let sumP = 0;
  let sumY = 0;
  let sumS = 0;
  let pixels = 0;
  const feats: Float32Array[] = [];
  for (const [i, p] of pairs.entries()) {
    const t0 = performance.now();
    const out = await upscale(p.lr, i);
    ms += performance.now() - t0;
    if (out.width !== p.hr.width || out.height !== p.hr.height) throw new Error(`${label}: output ${out.width}x${out.height}, HR ${p.hr.width}x${p.hr.height}`);
    pixels += out.width * out.height;
    sumP += psnr(out, p.hr, { border: scale });
    sumY += psnr(out, p.hr, { border: scale, channel: 'y' });
    sumS += ssim(out, p.hr, { border: scale });
    if (features) feats.push(...(await features.extract([out])));
  }
  const n = pairs.length;
  const fd = features ? featureDistances(feats, hrFeatures) : null;
  return {
    label,
    kind,
    source,
    images: n,
    psnr: sumP / n,
    psnrY: sumY / n,
    ssim: sumS / n,
    frechet: fd?.frechet ?? null,
    featureL2: fd?.pairedL2 ?? null,
    msPerImage: ms / n,
    msPerMegapixel: ms / (pixels / 1e6),
  };
}

function skipped(label: string, kind: RestoreRow['kind'], why: string): RestoreRow {
  return { label, kind, images: 0, psnr: null, psnrY: null, ssim: null, frechet: null, featureL2: null, msPerImage: null, msPerMegapixel: null, skipped: why };
}

async function loadModel(packs: PackSource, name: string): Promise<PackModel | string> {
  try {
    return await packs.registry.load(name);
  } catch (err) {
    return `pack "${name}" failed to load: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function editsSection(packs: PackSource, set: EvalSet, crops: readonly EvalCrop[], cacheDir: string | undefined, seed: number, log: (s: string) => void): Promise<EditsSection> {
  const rec = findPack(packs.records, 'edit', null);
  if (typeof rec === 'string') return { skipped: rec, rows: [], unchecked: [] };
  const model = await loadModel(packs, rec.name);
  if (typeof model === 'string') return { pack: rec.name, skipped: model, rows: [], unchecked: [] };
  const sources: PlanarImage[] = [];
  for (const c of crops) sources.push((await loadPair(set, c, set.scales[0] as number, cacheDir)).hr);
  const rows: EditSummary[] = [];
  const unchecked: string[] = [];
  for (const instruction of packInstructions(model)) {
    const edit = findEditByText(instruction);
    if (!edit) {
      unchecked.push(instruction);
      continue;
    }
    log(`edit "${instruction}" on ${sources.length} images`);
    const checks = [];
    let ms = 0;
    for (const [i, src] of sources.entries()) {
      const t0 = performance.now();
      const out = await editWithPack(model, src, instruction, seed + i);
      ms += performance.now() - t0;
      checks.push(checkEdit(edit.id, src, out));
    }
    rows.push(summariseEdit(edit.id, instruction, checks, ms / Math.max(1, sources.length)));
  }
  return { pack: `${rec.name} ${rec.manifest?.version ?? ''} (${rec.manifest?.method ?? '?'})`, rows, unchecked };
}

/** Inpaint rows of every inpaint pack in `sources` ([source, where] pairs), in scan order. */
async function inpaintRows(sources: readonly [PackSource, string][]): Promise<(InpaintPackRow | { label: string; skipped: string })[]> {
  const rows: (InpaintPackRow | { label: string; skipped: string })[] = [];
  for (const [src, where] of sources) {
    for (const rec of src.records.filter((r) => r.manifest?.task === 'inpaint')) {
      const label = `${rec.name} (${where})`;
      if (rec.status !== 'ok') {
        rows.push({ label, skipped: `invalid: ${rec.problem ?? '?'}` });
        continue;
      }
      const model = await loadModel(src, rec.name);
      rows.push(typeof model === 'string' ? { label, skipped: model } : packRow(label, model, inpaintWithPack));
    }
  }
  return rows;
}

/** Run the evaluation and write the report files. */
export async function runEval(options: EvalOptions = {}): Promise<{ report: EvalReport; jsonPath: string; mdPath: string }> {
  const started = performance.now();
  const log = options.log ?? ((s: string) => console.error(s));
  const quick = options.quick ?? false;
  const scales = options.scales ?? [4, 2];
  const degradation = options.degradation ?? 'realworld';
  const seed = options.seed ?? 1234;
  const threads = options.threads ?? 2;
  const sections = new Set<EvalSectionName>(options.sections ?? EVAL_SECTIONS);
  const notes: string[] = [];
  for (const s of scales) if (s !== 2 && s !== 4) throw new Error(`scale ×${s} is not in the held-out set (×2 and ×4 only)`);

  const backend = await initEvalBackend(log);
  const set = await ensureHeldoutSet({ degradation, cropsPerPhoto: options.cropsPerPhoto ?? 1, scales: [2, 4], log });
  let crops = quick ? quickSubset(set, 2) : set.crops;
  if (options.limit !== undefined) crops = crops.slice(0, options.limit);
  if (crops.length === 0) throw new Error('the held-out set is empty');
  log(`held-out set: ${set.photos.length} photos, ${set.crops.length} crops; using ${crops.length}`);

  const features = options.features === false || !sections.has('restore') ? null : await loadFeatureExtractor('inception');
  if (!features) {
    if (sections.has('restore')) notes.push('feature distances not computed (--no-features)');
  } else if (features.network.includes('failed')) notes.push(features.network);
  if (features && crops.length < 2) notes.push('Fréchet distance needs ≥ 2 images; only the paired feature L2 is given');
  if (features) notes.push(`Fréchet distance on ${crops.length} images of ${features.dim}-d features is strongly biased upwards at this sample size; compare rows, not papers`);

  const packs = await openPacks(options.packsDir, threads);
  const invalid = packs.records.filter((r) => r.status !== 'ok');
  for (const r of invalid) notes.push(`pack "${r.name}" is invalid: ${r.problem ?? '?'}`);
  if (packs.records.length === 0) notes.push(`no packs installed in ${options.packsDir ?? 'native-models/'}: every model row is skipped`);

  const tables: RestoreTable[] = [];
  let edits: EditsSection = { skipped: 'not run', rows: [], unchecked: [] };
  let inpaint: InpaintSection | undefined;
  const extra: [PackSource, string][] = [];
  if (sections.has('inpaint')) for (const dir of options.inpaintPacksDirs ?? []) extra.push([await openPacks(dir, threads), path.basename(path.resolve(dir))]);
  try {
    for (const scale of sections.has('restore') ? scales : []) {
      const pairs: Pair[] = [];
      for (const crop of crops) pairs.push({ crop, ...(await loadPair(set, crop, scale)) });
      const first = pairs[0] as Pair;
      const hrFeatures = features ? await features.extract(pairs.map((p) => p.hr)) : [];
      const rows: RestoreRow[] = [];
      log(`×${scale}: bicubic`);
      rows.push(await measureRow('bicubic', 'baseline', 'core/image/resize.ts', async (lr) => bicubicUpscale(lr, scale), pairs, scale, features, hrFeatures));
      for (const pkg of ESRGAN_PACKAGES) {
        const label = `${pkg.replace('@upscalerjs/', '')} ×${scale}`;
        if (!isInstalled(pkg)) {
          rows.push(skipped(label, 'peer', `${pkg} is not installed`));
          continue;
        }
        log(`×${scale}: ${label}`);
        const peer = await loadEsrganPeer(pkg, scale);
        try {
          rows.push(await measureRow(label, 'peer', `${pkg}@${peer.version}`, (lr) => peer.upscale(lr), pairs, scale, features, hrFeatures));
          if (scale === scales[0]) notes.push(`${pkg}@${peer.version}: ${peer.about}`);
        } finally {
          peer.dispose();
        }
      }
      for (const spec of RESTORE_ROWS) {
        const rec = findPack(packs.records, 'restore', spec.method, scale);
        if (typeof rec === 'string') {
          rows.push(skipped(spec.label, 'model', rec));
          continue;
        }
        const model = await loadModel(packs, rec.name);
        if (typeof model === 'string') {
          rows.push(skipped(spec.label, 'model', model));
          continue;
        }
        log(`×${scale}: ${spec.label} (${rec.name})`);
        try {
          rows.push(
            await measureRow(spec.label, 'model', `${rec.name} ${model.manifest.version}, ${spec.sampler === 'pack' ? model.manifest.sampler.kind : spec.sampler}`, (lr, i) => restoreWithPack(model, lr, spec.sampler, spec.steps, seed + i), pairs, scale, features, hrFeatures),
          );
        } catch (err) {
          rows.push(skipped(spec.label, 'model', `failed: ${err instanceof Error ? err.message : String(err)}`));
        }
      }
      const shipped = findPack(packs.records, 'restore', 'pe-codi', scale);
      const shippedSteps = typeof shipped === 'string' ? undefined : shipped.manifest?.sampler.steps;
      tables.push({ scale, size: `${first.lr.width}² → ${first.hr.width}²`, rows, ...(shippedSteps !== undefined ? { shippedSteps } : {}) });
    }
    if (sections.has('edits')) {
      const editCrops = crops.slice(0, options.editImages ?? (quick ? 2 : 8));
      edits = await editsSection(packs, set, editCrops, undefined, seed, log);
    }
    if (sections.has('inpaint')) {
      const cases: InpaintCase[] = [];
      for (const crop of crops) {
        const { hr } = await loadPair(set, crop, set.scales[0] as number);
        cases.push({ id: crop.id, truth: hr, mask: evalMask(crop.id, hr.width, hr.height) });
      }
      const sources: [PackSource, string][] = [[packs, 'installed']];
      sources.push(...extra);
      inpaint = await inpaintSection(cases, await inpaintRows(sources), seed, log);
    }
  } finally {
    features?.dispose();
    await packs.close();
    for (const [src] of extra) await src.close();
  }

  const date = new Date().toISOString().slice(0, 10);
  const report: EvalReport = {
    date,
    quick,
    environment: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.availableParallelism(),
      node: process.version,
      tfjsBackend: backend,
      onnxruntime: packageVersion('onnxruntime-node'),
      threads,
    },
    heldout: {
      degradation,
      photos: new Set(crops.map((c) => c.photo)).size,
      crops: crops.length,
      cropSize: set.cropSize,
      packages: set.packages.map((p) => ({ name: p.name, version: p.version })),
      note:
        degradation === 'realworld'
          ? 'real-world degradation (training/data/degrade.ts, StableSR test preset: blur, resize, noise, JPEG, two stages), seeded per crop'
          : 'clean bicubic downsampling (antialiased)',
    },
    featureNetwork: features?.network ?? 'none',
    featureDistanceName: features?.distanceName ?? 'feature distance',
    restore: tables,
    targets: sections.has('restore') ? checkTargets(tables) : [],
    edits,
    ...(inpaint ? { inpaint } : {}),
    notes,
    wallSeconds: (performance.now() - started) / 1000,
  };
  const outDir = options.outDir ?? DEFAULT_RESULTS_DIR;
  mkdirSync(outDir, { recursive: true });
  const only = sections.size < EVAL_SECTIONS.length ? `-${EVAL_SECTIONS.filter((s) => sections.has(s)).join('-')}` : '';
  const base = path.join(outDir, `eval-${date}${quick ? '-quick' : ''}${degradation === 'bicubic' ? '-bicubic' : ''}${only}`);
  const jsonPath = `${base}.json`;
  const mdPath = `${base}.md`;
  writeFileSync(jsonPath, `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`);
  writeFileSync(mdPath, renderMarkdown(report));
  return { report, jsonPath, mdPath };
}

function parseArgs(argv: readonly string[]): EvalOptions {
  const o: EvalOptions = {};
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  };
  const int = (s: string, flag: string): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got "${s}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    switch (a) {
      case '--quick':
        o.quick = true;
        break;
      case '--no-features':
        o.features = false;
        break;
      case '--scales':
        o.scales = value(i, a).split(',').map((s) => int(s, a));
        i++;
        break;
      case '--degradation': {
        const d = value(i, a);
        if (d !== 'realworld' && d !== 'bicubic') throw new Error('--degradation is realworld or bicubic');
        o.degradation = d;
        i++;
        break;
      }
      case '--crops-per-photo':
        o.cropsPerPhoto = int(value(i, a), a);
        i++;
        break;
      case '--limit':
        o.limit = int(value(i, a), a);
        i++;
        break;
      case '--edit-images':
        o.editImages = int(value(i, a), a);
        i++;
        break;
      case '--threads':
        o.threads = int(value(i, a), a);
        i++;
        break;
      case '--seed':
        o.seed = int(value(i, a), a);
        i++;
        break;
      case '--sections': {
        const list = value(i, a).split(',');
        for (const s of list) if (!(EVAL_SECTIONS as readonly string[]).includes(s)) throw new Error(`--sections takes ${EVAL_SECTIONS.join(', ')}; got "${s}"`);
        o.sections = list as EvalSectionName[];
        i++;
        break;
      }
      case '--inpaint-packs':
        o.inpaintPacksDirs = value(i, a).split(',');
        i++;
        break;
      case '--packs':
        o.packsDir = value(i, a);
        i++;
        break;
      case '--out':
        o.outDir = value(i, a);
        i++;
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--replication')) {
    // the CoDi replication (issue 21) has its own options and output: build/eval/replication/
    const { parseReplicationArgs, resolveReplicationOptions, runReplication } = await import('./replication/main.ts');
    const out = await runReplication(resolveReplicationOptions(parseReplicationArgs(argv)));
    if (out.mdPath) process.stdout.write(`written: ${path.relative(process.cwd(), out.mdPath)}\n`);
    return;
  }
  const { report, jsonPath, mdPath } = await runEval(parseArgs(argv));
  process.stdout.write(`${renderMarkdown(report)}\nwritten: ${path.relative(process.cwd(), jsonPath)}, ${path.relative(process.cwd(), mdPath)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
