/**
 * `build-dataset --task restore|inpaint|edit|depth|pretrain --out DIR --size 64 --count N --seed S
 *  [--scale 4] [--val-fraction 0.1] [--preset stablesr|realesrgan] [--cache DIR] [--mask-style S]`
 * `build-dataset --summary [--cache DIR] [--refetch]`: print what the photo library holds.
 *
 * Cuts random crops from the Debian photo library (train photos for train items, val photos for
 * val items) and writes the dataset format of CONVENTIONS.md: `dataset.json` (task, size, sources
 * with licence records, plus a `build` record of the arguments), `items.jsonl` and 8-bit PNGs.
 * Every item draws from its own RNG seeded by (seed, task, index), so a dataset is reproducible.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../core/rng.ts';
import { ensurePhotoLibrary, DEFAULT_PHOTO_CACHE, fetchDebianPhotos } from '../data/debian-fetch.ts';
import type { PhotoLibraryIndex, PhotoRecord } from '../data/debian-fetch.ts';
import { degrade, DEGRADATION_PRESETS } from '../data/degrade.ts';
import { formatLibrarySummary, summariseLibrary } from '../data/photo-library-summary.ts';
import { renderScene, sampleScene } from '../data/depth-scenes.ts';
import { applyEdit, EDIT_INSTRUCTIONS, trainingPhrases } from '../data/edits.ts';
import { createImage, flipHorizontal, luminance, writePng } from '../data/image.ts';
import type { PlanarImage } from '../data/image.ts';
import { MASK_STYLES, sampleMask } from '../data/masks.ts';
import type { MaskStyle } from '../data/masks.ts';
import { resize } from '../data/resample.ts';

export type DatasetTask = 'restore' | 'inpaint' | 'edit' | 'depth' | 'pretrain';
const TASKS: readonly DatasetTask[] = ['restore', 'inpaint', 'edit', 'depth', 'pretrain'];

/** One line of items.jsonl (CONVENTIONS.md): the one definition the readers use too. */
export type { DatasetItem } from '../../core/data/dataset-format.ts';
import type { DatasetItem } from '../../core/data/dataset-format.ts';

/** Parsed command-line options. */
export interface BuildDatasetOptions {
  task: DatasetTask;
  out: string;
  size: number;
  count: number;
  seed: number;
  scale: number;
  valFraction: number;
  preset: string;
  cacheDir: string;
  maskStyle?: MaskStyle;
  refetch: boolean;
}

const USAGE = 'usage: build-dataset --task restore|inpaint|edit|depth|pretrain --out DIR [--size 64] --count N [--seed 0] [--scale 4] [--val-fraction 0.1] [--preset stablesr|realesrgan] [--cache DIR] [--mask-style brush|box|irregular|person|side] [--refetch]\n       build-dataset --summary [--cache DIR] [--refetch]';

export function parseBuildDatasetArgs(argv: readonly string[]): BuildDatasetOptions {
  const get = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${USAGE}`);
    const [k, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (k === 'refetch') flags.add(k);
    else if (inline !== undefined) get.set(k, inline);
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`--${k} needs a value\n${USAGE}`);
      get.set(k, v);
    }
  }
  const num = (k: string, dflt?: number): number => {
    const v = get.get(k);
    if (v === undefined) {
      if (dflt === undefined) throw new Error(`--${k} is required\n${USAGE}`);
      return dflt;
    }
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${k} must be a number, got ${v}`);
    return n;
  };
  const task = get.get('task') as DatasetTask | undefined;
  if (!task || !TASKS.includes(task)) throw new Error(`--task must be one of ${TASKS.join('|')}\n${USAGE}`);
  const out = get.get('out');
  if (!out) throw new Error(`--out is required\n${USAGE}`);
  const size = num('size', 64);
  const scale = num('scale', 4);
  if (!Number.isInteger(size) || size < 16 || size % 4 !== 0) throw new Error('--size must be an integer ≥ 16 and a multiple of 4');
  if (task === 'restore' && ![2, 4].includes(scale)) throw new Error('--scale must be 2 or 4');
  const count = num('count');
  if (!Number.isInteger(count) || count < 1) throw new Error('--count must be a positive integer');
  const preset = get.get('preset') ?? 'stablesr';
  if (!DEGRADATION_PRESETS[preset]) throw new Error(`--preset must be one of ${Object.keys(DEGRADATION_PRESETS).join('|')}`);
  const maskStyle = get.get('mask-style') as MaskStyle | undefined;
  if (maskStyle && !MASK_STYLES.includes(maskStyle)) throw new Error(`--mask-style must be one of ${MASK_STYLES.join('|')}`);
  const valFraction = num('val-fraction', 0.1);
  if (valFraction < 0 || valFraction >= 1) throw new Error('--val-fraction must be in [0, 1)');
  return {
    task,
    out,
    size,
    count,
    seed: num('seed', 0),
    scale,
    valFraction,
    preset,
    cacheDir: get.get('cache') ?? DEFAULT_PHOTO_CACHE,
    ...(maskStyle ? { maskStyle } : {}),
    refetch: flags.has('refetch'),
  };
}

/** A decoded working photo kept in memory as interleaved 8-bit RGB. */
interface LoadedPhoto {
  record: PhotoRecord;
  width: number;
  height: number;
  rgb: Uint8Array;
}

async function loadPhotos(index: PhotoLibraryIndex, cacheDir: string): Promise<LoadedPhoto[]> {
  return Promise.all(
    index.photos.map(async (record) => {
      const { data, info } = await sharp(join(cacheDir, record.prepared)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { record, width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    }),
  );
}

/**
 * A random crop of `size` × `size`: side drawn log-uniformly between size and min(4·size, short
 * side), area-resized to size, random horizontal flip. Crops with almost no luminance variation
 * (clear sky, black space) are redrawn up to 5 times.
 */
export function randomCrop(photo: LoadedPhoto, size: number, rng: Rng): PlanarImage {
  let best: PlanarImage | null = null;
  for (let attempt = 0; attempt < 6; attempt++) {
    const maxSide = Math.min(4 * size, photo.width, photo.height);
    const side = Math.max(size, Math.round(Math.exp(Math.log(size) + rng.uniform() * Math.log(maxSide / size))));
    const left = rng.int(0, photo.width - side + 1);
    const top = rng.int(0, photo.height - side + 1);
    const crop = createImage(side, side, 3);
    const plane = side * side;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const src = ((top + y) * photo.width + left + x) * 3;
        const dst = y * side + x;
        crop.data[dst] = (photo.rgb[src] as number) / 255;
        crop.data[plane + dst] = (photo.rgb[src + 1] as number) / 255;
        crop.data[2 * plane + dst] = (photo.rgb[src + 2] as number) / 255;
      }
    }
    let img = side === size ? crop : resize(crop, size, size, 'area');
    if (rng.uniform() < 0.5) img = flipHorizontal(img);
    const y = luminance(img);
    let m = 0;
    for (const v of y) m += v;
    m /= y.length;
    let s = 0;
    for (const v of y) s += (v - m) ** 2;
    best = img;
    if (Math.sqrt(s / y.length) > 0.03) break;
  }
  return best as PlanarImage;
}

function greyFrom(values: ArrayLike<number>, width: number, height: number, map: (v: number) => number): PlanarImage {
  const img = createImage(width, height, 1);
  for (let i = 0; i < img.data.length; i++) img.data[i] = map(values[i] as number);
  return img;
}

async function buildItem(
  opts: BuildDatasetOptions,
  index: number,
  split: 'train' | 'val',
  photos: readonly LoadedPhoto[],
): Promise<DatasetItem> {
  const rng = new Rng(`${opts.seed}:${opts.task}:${index}`);
  const name = `${String(index).padStart(6, '0')}.png`;
  const pick = (): LoadedPhoto => photos[rng.int(0, photos.length)] as LoadedPhoto;
  const target = `target/${name}`;
  const writes: Promise<void>[] = [];
  const item: DatasetItem = { split, target };
  switch (opts.task) {
    case 'pretrain': {
      writes.push(writePng(randomCrop(pick(), opts.size, rng), join(opts.out, target)));
      break;
    }
    case 'restore': {
      const hr = randomCrop(pick(), opts.size, rng);
      const { lr } = await degrade(hr, rng, opts.scale, DEGRADATION_PRESETS[opts.preset]);
      item.input = `input/${name}`;
      item.scale = opts.scale;
      writes.push(writePng(hr, join(opts.out, target)), writePng(lr, join(opts.out, item.input)));
      break;
    }
    case 'inpaint': {
      const img = randomCrop(pick(), opts.size, rng);
      const { mask } = sampleMask(rng, opts.size, opts.size, opts.maskStyle);
      item.mask = `mask/${name}`;
      writes.push(writePng(img, join(opts.out, target)), writePng(greyFrom(mask.data, mask.width, mask.height, (v) => v), join(opts.out, item.mask)));
      break;
    }
    case 'edit': {
      const src = randomCrop(pick(), opts.size, rng);
      const edit = EDIT_INSTRUCTIONS[rng.int(0, EDIT_INSTRUCTIONS.length)] ?? EDIT_INSTRUCTIONS[0];
      if (!edit) throw new Error('no edits');
      // val items may use held-out wordings; train items never do
      const phrases = split === 'train' ? trainingPhrases(edit) : edit.paraphrases.map((p) => p.text);
      item.input = `input/${name}`;
      item.text = phrases[rng.int(0, phrases.length)];
      writes.push(writePng(src, join(opts.out, item.input)), writePng(applyEdit(edit.id, src), join(opts.out, target)));
      break;
    }
    case 'depth': {
      const textures = Array.from({ length: rng.int(2, 5) }, () => randomCrop(pick(), 128, rng));
      const scene = sampleScene(rng, textures.length);
      const r = renderScene(scene, textures, opts.size, opts.size);
      item.depth = `depth/${name}`;
      writes.push(writePng(r.image, join(opts.out, target)), writePng(greyFrom(r.depth.data, opts.size, opts.size, (v) => (v + 1) / 2), join(opts.out, item.depth)));
      break;
    }
  }
  await Promise.all(writes);
  return item;
}

/**
 * The photos a task may crop from: restoration targets must be clean, so content-only photos
 * (compression damage of their own, docs/data.md §4) are left out of `restore`; every other task
 * uses them as content.
 */
export function usablePhotos<T extends { record: Pick<PhotoRecord, 'contentOnly'> }>(photos: readonly T[], task: DatasetTask): T[] {
  return task === 'restore' ? photos.filter((p) => !p.record.contentOnly) : [...photos];
}

/** Build a dataset; returns the number of items written per split. */
export async function buildDataset(opts: BuildDatasetOptions, log: (s: string) => void = () => {}): Promise<{ train: number; val: number; seconds: number }> {
  const t0 = performance.now();
  const index = opts.refetch ? await fetchDebianPhotos({ cacheDir: opts.cacheDir, log }) : await ensurePhotoLibrary(opts.cacheDir, log);
  const all = await loadPhotos(index, opts.cacheDir);
  const usable = usablePhotos(all, opts.task);
  const train = usable.filter((p) => p.record.split === 'train');
  const val = usable.filter((p) => p.record.split === 'val');
  if (train.length === 0) throw new Error(`the photo library has no training photos usable for ${opts.task}`);
  const nVal = val.length > 0 ? Math.round(opts.count * opts.valFraction) : 0;
  const nTrain = opts.count - nVal;
  for (const dir of ['target', 'input', 'mask', 'depth']) {
    if (dir === 'target' || (dir === 'input' && (opts.task === 'restore' || opts.task === 'edit')) || (dir === 'mask' && opts.task === 'inpaint') || (dir === 'depth' && opts.task === 'depth')) {
      mkdirSync(join(opts.out, dir), { recursive: true });
    }
  }
  const lines: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const split = i < nTrain ? 'train' : 'val';
    const item = await buildItem(opts, i, split, split === 'train' ? train : val);
    lines.push(JSON.stringify(item));
    if ((i + 1) % 500 === 0) log(`${i + 1}/${opts.count} items`);
  }
  const dataset = {
    task: opts.task,
    size: [opts.size, opts.size],
    // the photos this data set draws from (restore leaves the content-only ones out)
    sources: usable.map(({ record: p }) => ({
      key: p.key,
      package: p.package,
      version: p.version,
      path: p.path,
      licence: p.licence,
      copyright: p.copyright,
      ...(p.note ? { note: p.note } : {}),
      ...(p.upstreamLicence ? { upstreamLicence: p.upstreamLicence } : {}),
      ...(p.contentOnly ? { contentOnly: true } : {}),
      sha256: p.sha256,
      split: p.split,
    })),
    build: {
      tool: 'build-dataset',
      seed: opts.seed,
      count: opts.count,
      train: nTrain,
      val: nVal,
      valFraction: opts.valFraction,
      ...(opts.task === 'restore' ? { scale: opts.scale, degradation: opts.preset } : {}),
      ...(opts.task === 'inpaint' ? { maskStyle: opts.maskStyle ?? 'mixed' } : {}),
    },
  };
  writeFileSync(join(opts.out, 'dataset.json'), `${JSON.stringify(dataset, null, 2)}\n`);
  writeFileSync(join(opts.out, 'items.jsonl'), `${lines.join('\n')}\n`);
  if (opts.task === 'edit') writeFileSync(join(opts.out, 'instructions.json'), `${JSON.stringify(EDIT_INSTRUCTIONS, null, 2)}\n`);
  return { train: nTrain, val: nVal, seconds: (performance.now() - t0) / 1000 };
}

/** `--summary [--cache DIR] [--refetch]`: print the library summary; returns the exit code. */
async function runSummary(argv: readonly string[]): Promise<number> {
  let cacheDir = DEFAULT_PHOTO_CACHE;
  let refetch = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--summary') continue;
    if (a === '--refetch') refetch = true;
    else if (a === '--cache' && argv[i + 1] !== undefined) cacheDir = argv[++i] as string;
    else if (a.startsWith('--cache=')) cacheDir = a.slice('--cache='.length);
    else {
      console.error(`--summary takes only --cache DIR and --refetch, got ${a}`);
      return 2;
    }
  }
  try {
    const log = (s: string): void => console.error(s);
    const index = refetch ? await fetchDebianPhotos({ cacheDir, log }) : await ensurePhotoLibrary(cacheDir, log);
    process.stdout.write(formatLibrarySummary(summariseLibrary(index)));
    return 0;
  } catch (err) {
    console.error(`build-dataset --summary failed: ${(err as Error).message}`);
    return 1;
  }
}

/** CLI entry: returns the process exit code. */
export async function runBuildDatasetCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--summary')) return runSummary(argv);
  let opts: BuildDatasetOptions;
  try {
    opts = parseBuildDatasetArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  try {
    const r = await buildDataset(opts, (s) => console.log(s));
    console.log(`wrote ${r.train} train + ${r.val} val ${opts.task} items (${opts.size}²) to ${opts.out} in ${r.seconds.toFixed(1)} s`);
    return 0;
  } catch (err) {
    console.error(`build-dataset failed: ${(err as Error).message}`);
    return 1;
  }
}
