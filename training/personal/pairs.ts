/**
 * Before/after pairs for a personal adapter: find the pairs in a folder (or a before/ + after/
 * folder pair), check every one of them BEFORE any training time is spent (unmatched files,
 * corrupt images, size mismatches, duplicates, too few pairs) and write a CONVENTIONS dataset
 * (task 'custom') of aligned random crops into a work folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../core/rng.ts';

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff']);
/** `x.edited.jpg`, `x_edited.jpg`, `x-after.png`, … (separator . _ - and suffix edited|after). */
const AFTER_SUFFIX = /^(.+?)[._-](edited|after)$/i;
/** Decoding cap: a pair folder is for photos, not for decompression bombs. */
const MAX_PIXELS = 8192 * 8192;
export const MIN_PAIRS = 8;

/** How to treat a before/after pair whose sizes differ. */
export type AlignMode = 'none' | 'crop' | 'resize';

export type ProblemKind = 'unmatched' | 'corrupt' | 'size-mismatch' | 'duplicate' | 'too-small' | 'too-few' | 'layout';

/** One finding of the preflight. Errors exclude the pair (or, for too-few/layout, the whole run). */
export interface PairProblem {
  kind: ProblemKind;
  severity: 'error' | 'warning';
  /** Path relative to the pairs folder (or the pair name). */
  file: string;
  detail: string;
}

/** A matched pair with both decoded sizes. */
export interface ImagePair {
  name: string;
  before: string;
  after: string;
  beforeSize: { width: number; height: number };
  afterSize: { width: number; height: number };
}

/** Where the pairs come from: one folder with matching names, or two folders with equal names. */
export type PairsSource = { dir: string } | { before: string; after: string };

export interface PreflightOptions {
  /** Size-mismatch policy: 'none' rejects such pairs; 'crop' centre-crops the larger; 'resize' resizes the after image. Default 'crop'. */
  align?: AlignMode;
  /** Held-out fraction (default 0.15, at least 2 pairs). */
  valFraction?: number;
  minPairs?: number;
  /** Smallest usable side in pixels (the training crop). Default 64. */
  minSide?: number;
  seed?: number;
  /** Small preview thumbnails (PNG data URLs) of the first this-many usable pairs (default 0). */
  thumbnails?: number;
  thumbSide?: number;
}

export interface PairThumb {
  name: string;
  before: string;
  after: string;
}

export interface PreflightReport {
  /** True when training can start (enough usable pairs, no fatal problem). */
  ok: boolean;
  layout: 'one-folder' | 'two-folders';
  root: { before: string; after: string };
  align: AlignMode;
  /** Pairs that will train or validate. */
  pairs: ImagePair[];
  problems: PairProblem[];
  counts: { imageFiles: number; matched: number; usable: number; train: number; val: number; errors: number; warnings: number };
  split: { train: string[]; val: string[] };
  thumbs: PairThumb[];
}

interface Candidate {
  name: string;
  before: string;
  after: string;
}

async function imageFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && IMAGE_EXT.has(path.extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort();
}

const stem = (f: string) => f.slice(0, f.length - path.extname(f).length);

/** Match names in one folder; returns candidates plus the files left without a partner. */
function matchOneFolder(files: string[], problems: PairProblem[]): Candidate[] {
  const befores = new Map<string, string>();
  const afters = new Map<string, string>();
  for (const f of files) {
    const m = AFTER_SUFFIX.exec(stem(f));
    const key = (m ? m[1]! : stem(f)).toLowerCase();
    const into = m ? afters : befores;
    const prev = into.get(key);
    if (prev !== undefined) {
      problems.push({ kind: 'duplicate', severity: 'error', file: f, detail: `same name as ${prev} (only one ${m ? 'after' : 'before'} image per pair); ignored` });
      continue;
    }
    into.set(key, f);
  }
  const out: Candidate[] = [];
  for (const [key, b] of befores) {
    const a = afters.get(key);
    if (a === undefined) problems.push({ kind: 'unmatched', severity: 'error', file: b, detail: `no edited version (expected e.g. ${stem(b)}.edited${path.extname(b)})` });
    else out.push({ name: stem(b), before: b, after: a });
  }
  for (const [key, a] of afters) if (!befores.has(key)) problems.push({ kind: 'unmatched', severity: 'error', file: a, detail: 'edited image without its original' });
  return out;
}

function matchTwoFolders(beforeFiles: string[], afterFiles: string[], problems: PairProblem[]): Candidate[] {
  const byStem = (files: string[], side: string) => {
    const m = new Map<string, string>();
    for (const f of files) {
      const k = stem(f).toLowerCase();
      if (m.has(k)) problems.push({ kind: 'duplicate', severity: 'error', file: `${side}/${f}`, detail: `same name as ${side}/${m.get(k)}; ignored` });
      else m.set(k, f);
    }
    return m;
  };
  const b = byStem(beforeFiles, 'before');
  const a = byStem(afterFiles, 'after');
  const out: Candidate[] = [];
  for (const [k, f] of b) {
    const af = a.get(k);
    if (af === undefined) problems.push({ kind: 'unmatched', severity: 'error', file: `before/${f}`, detail: 'no file with the same name in the after folder' });
    else out.push({ name: stem(f), before: `before/${f}`, after: `after/${af}` });
  }
  for (const [k, f] of a) if (!b.has(k)) problems.push({ kind: 'unmatched', severity: 'error', file: `after/${f}`, detail: 'no file with the same name in the before folder' });
  return out;
}

interface DecodedInfo {
  width: number;
  height: number;
  sha256: string;
}

/** Full decode (a truncated JPEG only fails when its pixels are read). */
async function probe(file: string): Promise<DecodedInfo> {
  const bytes = await readFile(file);
  const { info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Resolve the source into absolute before/after roots and the layout. */
export function resolvePairsSource(src: PairsSource): { layout: 'one-folder' | 'two-folders'; before: string; after: string } {
  if ('dir' in src) {
    const b = path.join(src.dir, 'before');
    const a = path.join(src.dir, 'after');
    if (existsSync(b) && existsSync(a) && statSync(b).isDirectory() && statSync(a).isDirectory()) return { layout: 'two-folders', before: b, after: a };
    return { layout: 'one-folder', before: src.dir, after: src.dir };
  }
  return { layout: 'two-folders', before: src.before, after: src.after };
}

/** Seeded held-out split: valFraction of the pairs, at least 2 (when there are enough pairs). */
export function splitPairs(names: readonly string[], valFraction: number, seed: number): { train: string[]; val: string[] } {
  const order = [...names].sort();
  const rng = new Rng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nVal = order.length < 4 ? 0 : Math.max(2, Math.round(order.length * valFraction));
  const val = order.slice(0, nVal).sort();
  const train = order.slice(nVal).sort();
  return { train, val };
}

/** Check a pairs folder and report every problem at once. */
export async function preflightPairs(src: PairsSource, opts: PreflightOptions = {}): Promise<PreflightReport> {
  const align = opts.align ?? 'crop';
  const minPairs = opts.minPairs ?? MIN_PAIRS;
  const minSide = opts.minSide ?? 64;
  const root = resolvePairsSource(src);
  const problems: PairProblem[] = [];
  let candidates: Candidate[] = [];
  let imageCount = 0;
  const rootBase = root.layout === 'one-folder' ? root.before : path.dirname(root.before);
  const abs = (rel: string) => (root.layout === 'one-folder' ? path.join(root.before, rel) : path.join(rel.startsWith('before/') ? root.before : root.after, rel.slice(rel.indexOf('/') + 1)));
  try {
    if (root.layout === 'one-folder') {
      const files = await imageFiles(root.before);
      imageCount = files.length;
      candidates = matchOneFolder(files, problems);
    } else {
      const [bf, af] = await Promise.all([imageFiles(root.before), imageFiles(root.after)]);
      imageCount = bf.length + af.length;
      candidates = matchTwoFolders(bf, af, problems);
    }
  } catch (err) {
    problems.push({ kind: 'layout', severity: 'error', file: rootBase, detail: `cannot read the folder: ${(err as Error).message}` });
  }

  const pairs: ImagePair[] = [];
  const seenBefore = new Map<string, string>();
  const seenPair = new Map<string, string>();
  for (const c of candidates) {
    let bi: DecodedInfo;
    let ai: DecodedInfo;
    try {
      bi = await probe(abs(c.before));
    } catch (err) {
      problems.push({ kind: 'corrupt', severity: 'error', file: c.before, detail: `unreadable image: ${(err as Error).message}` });
      continue;
    }
    try {
      ai = await probe(abs(c.after));
    } catch (err) {
      problems.push({ kind: 'corrupt', severity: 'error', file: c.after, detail: `unreadable image: ${(err as Error).message}` });
      continue;
    }
    const pairKey = `${bi.sha256}:${ai.sha256}`;
    if (seenPair.has(pairKey)) {
      problems.push({ kind: 'duplicate', severity: 'error', file: c.name, detail: `identical to pair ${seenPair.get(pairKey)}; ignored` });
      continue;
    }
    if (seenBefore.has(bi.sha256)) {
      problems.push({ kind: 'duplicate', severity: 'error', file: c.before, detail: `same before image as pair ${seenBefore.get(bi.sha256)} (with a different edit); ignored` });
      continue;
    }
    if (bi.sha256 === ai.sha256) problems.push({ kind: 'duplicate', severity: 'warning', file: c.name, detail: 'after is byte-identical to before (an unedited pair); kept' });
    if (bi.width !== ai.width || bi.height !== ai.height) {
      const sizes = `before ${bi.width}×${bi.height}, after ${ai.width}×${ai.height}`;
      if (align === 'none') {
        problems.push({ kind: 'size-mismatch', severity: 'error', file: c.name, detail: `${sizes}; choose align 'crop' (centre-crop the larger) or 'resize' to use it` });
        continue;
      }
      problems.push({ kind: 'size-mismatch', severity: 'warning', file: c.name, detail: `${sizes}; will ${align === 'crop' ? 'centre-crop the larger to the smaller' : 'resize the after image to the before size'}` });
    }
    const w = align === 'resize' ? bi.width : Math.min(bi.width, ai.width);
    const h = align === 'resize' ? bi.height : Math.min(bi.height, ai.height);
    if (Math.min(w, h) < minSide) {
      problems.push({ kind: 'too-small', severity: 'error', file: c.name, detail: `${w}×${h} is smaller than the ${minSide}px training crop` });
      continue;
    }
    seenBefore.set(bi.sha256, c.name);
    seenPair.set(pairKey, c.name);
    pairs.push({ name: c.name, before: abs(c.before), after: abs(c.after), beforeSize: { width: bi.width, height: bi.height }, afterSize: { width: ai.width, height: ai.height } });
  }
  if (pairs.length < minPairs) {
    problems.push({ kind: 'too-few', severity: 'error', file: rootBase, detail: `${pairs.length} usable pair(s); at least ${minPairs} are needed` });
  }
  const split = splitPairs(
    pairs.map((p) => p.name),
    opts.valFraction ?? 0.15,
    opts.seed ?? 0,
  );
  const thumbs: PairThumb[] = [];
  const side = opts.thumbSide ?? 96;
  for (const p of pairs.slice(0, opts.thumbnails ?? 0)) {
    const t = async (f: string) => `data:image/png;base64,${(await sharp(f).resize(side, side, { fit: 'inside' }).png().toBuffer()).toString('base64')}`;
    thumbs.push({ name: p.name, before: await t(p.before), after: await t(p.after) });
  }
  const errors = problems.filter((p) => p.severity === 'error').length;
  const fatal = problems.some((p) => p.kind === 'too-few' || p.kind === 'layout');
  return {
    ok: !fatal,
    layout: root.layout,
    root: { before: root.before, after: root.after },
    align,
    pairs,
    problems,
    counts: { imageFiles: imageCount, matched: candidates.length, usable: pairs.length, train: split.train.length, val: split.val.length, errors, warnings: problems.length - errors },
    split,
    thumbs,
  };
}

export interface PairDatasetOptions {
  /** Training crop side in pixels (multiple of 4). Default 64. */
  crop?: number;
  /** Random crops per train pair (default 8) and per held-out pair (default 2). */
  cropsPerPair?: number;
  valCropsPerPair?: number;
  /** Downscale each pair so its shorter side is at most this (keeps crops from being pure texture). Default 256. */
  workingSide?: number;
  seed?: number;
}

/** Summary written as pairs.json beside the dataset (the model card and the previews read it). */
export interface PairDatasetSummary {
  task: 'custom';
  crop: number;
  trainPairs: string[];
  valPairs: string[];
  items: { train: number; val: number };
  align: AlignMode;
  workingSide: number;
}

/** Decode a pair as aligned RGB buffers of equal size (align per the report's policy). */
async function loadAligned(p: ImagePair, align: AlignMode, workingSide: number): Promise<{ before: Buffer; after: Buffer; width: number; height: number }> {
  const w = align === 'resize' ? p.beforeSize.width : Math.min(p.beforeSize.width, p.afterSize.width);
  const h = align === 'resize' ? p.beforeSize.height : Math.min(p.beforeSize.height, p.afterSize.height);
  const s = Math.min(1, workingSide / Math.min(w, h));
  const W = Math.max(1, Math.round(w * s));
  const H = Math.max(1, Math.round(h * s));
  const one = async (file: string, size: { width: number; height: number }) => {
    let img = sharp(file, { limitInputPixels: MAX_PIXELS }).removeAlpha().toColourspace('srgb');
    if (size.width !== w || size.height !== h) {
      img =
        align === 'resize'
          ? img.resize(w, h, { fit: 'fill' })
          : img.extract({ left: Math.floor((size.width - w) / 2), top: Math.floor((size.height - h) / 2), width: w, height: h });
      // sharp applies one geometric op per pipeline stage: materialise before scaling again
      img = sharp(await img.png().toBuffer()).removeAlpha();
    }
    if (W !== w || H !== h) img = img.resize(W, H, { fit: 'fill', kernel: 'lanczos3' });
    return img.raw().toBuffer();
  };
  return { before: await one(p.before, p.beforeSize), after: await one(p.after, p.afterSize), width: W, height: H };
}

function cropRgb(buf: Buffer, width: number, left: number, top: number, side: number): Buffer {
  const out = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) buf.copy(out, y * side * 3, ((top + y) * width + left) * 3, ((top + y) * width + left + side) * 3);
  return out;
}

/**
 * Write the usable pairs of `report` as a task 'custom' dataset into `outDir` (replaced):
 * dataset.json, items.jsonl, PNG crops cut at the same position from before (input) and after (target).
 */
export async function writePairsDataset(report: PreflightReport, outDir: string, opts: PairDatasetOptions = {}): Promise<PairDatasetSummary> {
  if (!report.ok) throw new Error('the pairs preflight found fatal problems; fix them before training');
  const crop = opts.crop ?? 64;
  if (crop % 4 !== 0) throw new Error('crop must be a multiple of 4');
  const workingSide = Math.max(crop, opts.workingSide ?? 256);
  const rng = new Rng(opts.seed ?? 1);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(path.join(outDir, 'img'), { recursive: true });
  const lines: string[] = [];
  const counts = { train: 0, val: 0 };
  const valSet = new Set(report.split.val);
  let n = 0;
  for (const p of report.pairs) {
    const split = valSet.has(p.name) ? 'val' : 'train';
    const k = split === 'val' ? (opts.valCropsPerPair ?? 2) : (opts.cropsPerPair ?? 8);
    const img = await loadAligned(p, report.align, workingSide);
    for (let i = 0; i < k; i++) {
      // The first held-out crop is the centre one, so previews are stable across runs.
      const centre = split === 'val' && i === 0;
      const left = centre ? Math.floor((img.width - crop) / 2) : Math.floor(rng.uniform() * (img.width - crop + 1));
      const top = centre ? Math.floor((img.height - crop) / 2) : Math.floor(rng.uniform() * (img.height - crop + 1));
      const id = String(n++).padStart(5, '0');
      const raw = { width: crop, height: crop, channels: 3 as const };
      await sharp(cropRgb(img.before, img.width, left, top, crop), { raw }).png().toFile(path.join(outDir, 'img', `${id}.before.png`));
      await sharp(cropRgb(img.after, img.width, left, top, crop), { raw }).png().toFile(path.join(outDir, 'img', `${id}.after.png`));
      lines.push(JSON.stringify({ split, target: `img/${id}.after.png`, input: `img/${id}.before.png` }));
      counts[split] += 1;
    }
  }
  const sources = [{ kind: 'user-pairs', note: `${report.pairs.length} personal before/after pairs from ${report.root.before}` }];
  await writeFile(path.join(outDir, 'dataset.json'), `${JSON.stringify({ task: 'custom', size: [crop, crop], sources }, null, 2)}\n`);
  // val lines last so readers that cap per split keep file order
  await writeFile(path.join(outDir, 'items.jsonl'), `${lines.join('\n')}\n`);
  const summary: PairDatasetSummary = { task: 'custom', crop, trainPairs: report.split.train, valPairs: report.split.val, items: counts, align: report.align, workingSide };
  await writeFile(path.join(outDir, 'pairs.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
