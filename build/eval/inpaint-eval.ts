/**
 * The inpaint section of `npm run eval`: on each held-out crop, one seeded user-like mask
 * (training/data/masks.ts styles: strokes, boxes, blobs, covering 5–40 % of the crop), filled by
 * the classic Telea fill (core/image/telea.ts) and by every installed inpaint pack (three seeds:
 * the packs sample noise). Measured inside the hole against the truth: PSNR, mean-colour
 * distance and gradient-energy ratio (build/eval/metrics.ts holeMeasures), and GMSD of the crop.
 * The per-photo criteria compare each pack with Telea on the same photo and mask.
 */
import { teleaFill } from '../../core/image/telea.ts';
import { Rng } from '../../core/rng.ts';
import type { PackModel } from '../../electron/engine/packs/registry.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { coverage, sampleMask } from '../../training/data/masks.ts';
import { modelToPlanar, planarToModel } from './convert.ts';
import type { TargetCheck } from './target-check.ts';
import { gmsd, holeMeasures } from './metrics.ts';
import type { HoleMeasures } from './metrics.ts';

/** Coverage range of the eval masks (the issue: 5–40 % of the context). */
export const EVAL_MASK_COVERAGE: readonly [number, number] = [0.05, 0.4];
/** Seeds per pack row (its noise); the spread over them is reported. */
export const INPAINT_SEEDS = 3;

/** One crop with its mask. */
export interface InpaintCase {
  id: string;
  truth: PlanarImage;
  /** 1 = hole, row-major */
  mask: Float32Array;
}

/** Per-photo measures of one row (means over its seeds). */
export interface InpaintMeasures extends HoleMeasures {
  gmsd: number;
}

/** Fractions of photos meeting the criteria. */
export interface InpaintCriteria {
  /** mean-colour distance ≤ Telea's + 3 */
  colour: number;
  /** hole PSNR ≥ Telea's − 1 dB */
  psnr: number;
  /** gradient-energy ratio in [0.4, 2] */
  texture: number;
  /** all three */
  all: number;
}

export interface InpaintRow {
  label: string;
  kind: 'baseline' | 'model';
  source?: string;
  images: number;
  seeds: number;
  holePsnr: number | null;
  /** max − min over seeds of the mean hole PSNR (0 for a deterministic row) */
  holePsnrSpread: number | null;
  meanColourDistance: number | null;
  /** median over photos (a ratio: the mean would be ruled by one noisy fill) */
  gradientEnergyRatio: number | null;
  gmsd: number | null;
  /** per photo, in case order (means over seeds); kept for the criteria, not rendered */
  perPhoto?: InpaintMeasures[];
  criteria: InpaintCriteria | null;
  msPerImage: number | null;
  skipped?: string;
}

export interface InpaintSection {
  cropSize: number;
  photos: number;
  coverage: { min: number; mean: number; max: number };
  rows: InpaintRow[];
  targets: TargetCheck[];
}

/** The eval mask of a crop: seeded by its id, redrawn until it covers 5–40 %. */
export function evalMask(id: string, width: number, height: number): Float32Array {
  const rng = new Rng(`eval-inpaint:${id}`);
  for (let tries = 0; tries < 100; tries++) {
    const { mask } = sampleMask(rng, width, height);
    const c = coverage(mask);
    if (c >= EVAL_MASK_COVERAGE[0] && c <= EVAL_MASK_COVERAGE[1]) return Float32Array.from(mask.data);
  }
  throw new Error(`no mask within ${EVAL_MASK_COVERAGE.join('–')} coverage for ${id} in 100 draws`);
}

/** The classic fill of one case, in [0, 1]. */
export function teleaCase(c: InpaintCase): PlanarImage {
  return modelToPlanar(teleaFill(planarToModel(c.truth), { data: c.mask, shape: [1, 1, c.truth.height, c.truth.width] }));
}

/** Check a fill keeps every pixel outside the hole (the issue: bit-exact on the 8-bit grid). */
function checkOutside(label: string, c: InpaintCase, out: PlanarImage): void {
  const n = c.truth.width * c.truth.height;
  for (let ch = 0; ch < 3; ch++) {
    for (let i = 0; i < n; i++) {
      if ((c.mask[i] as number) >= 0.5) continue;
      if (Math.round((out.data[ch * n + i] as number) * 255) !== Math.round((c.truth.data[ch * n + i] as number) * 255)) {
        throw new Error(`${label} changed pixel ${i % c.truth.width},${Math.floor(i / c.truth.width)} outside the hole of ${c.id}`);
      }
    }
  }
}

function measure(c: InpaintCase, out: PlanarImage): InpaintMeasures {
  return { ...holeMeasures(out, c.truth, c.mask), gmsd: gmsd(out, c.truth) };
}

const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? (s[k] as number) : ((s[k - 1] as number) + (s[k] as number)) / 2;
}

/** The per-photo criteria of `rows` against the classic fill's, as fractions of photos. */
export function criteriaAgainst(ours: readonly HoleMeasures[], classic: readonly HoleMeasures[]): InpaintCriteria {
  if (ours.length !== classic.length || ours.length === 0) throw new RangeError('criteria need the same, non-empty photo list');
  let colour = 0;
  let psnr = 0;
  let texture = 0;
  let all = 0;
  for (const [i, o] of ours.entries()) {
    const t = classic[i] as HoleMeasures;
    const a = o.meanColourDistance <= t.meanColourDistance + 3;
    const b = o.psnr >= t.psnr - 1;
    const g = o.gradientEnergyRatio >= 0.4 && o.gradientEnergyRatio <= 2;
    colour += a ? 1 : 0;
    psnr += b ? 1 : 0;
    texture += g ? 1 : 0;
    all += a && b && g ? 1 : 0;
  }
  const n = ours.length;
  return { colour: colour / n, psnr: psnr / n, texture: texture / n, all: all / n };
}

/** A row from per-seed, per-photo measures ([seed][photo]). */
export function summariseRow(label: string, kind: InpaintRow['kind'], source: string, bySeed: readonly (readonly InpaintMeasures[])[], ms: number, classic: readonly InpaintMeasures[] | null): InpaintRow {
  const photos = (bySeed[0] ?? []).length;
  const perPhoto: InpaintMeasures[] = [];
  for (let i = 0; i < photos; i++) {
    const at = bySeed.map((s) => s[i] as InpaintMeasures);
    perPhoto.push({
      psnr: mean(at.map((m) => m.psnr)),
      meanColourDistance: mean(at.map((m) => m.meanColourDistance)),
      gradientEnergyRatio: mean(at.map((m) => m.gradientEnergyRatio)),
      gmsd: mean(at.map((m) => m.gmsd)),
    });
  }
  const seedMeans = bySeed.map((s) => mean(s.map((m) => m.psnr)));
  return {
    label,
    kind,
    source,
    images: photos,
    seeds: bySeed.length,
    holePsnr: mean(perPhoto.map((m) => m.psnr)),
    holePsnrSpread: Math.max(...seedMeans) - Math.min(...seedMeans),
    meanColourDistance: mean(perPhoto.map((m) => m.meanColourDistance)),
    gradientEnergyRatio: median(perPhoto.map((m) => m.gradientEnergyRatio)),
    gmsd: mean(perPhoto.map((m) => m.gmsd)),
    perPhoto,
    criteria: classic ? criteriaAgainst(perPhoto, classic) : null,
    msPerImage: ms,
  };
}

/** The inpaint targets for one model row against the classic row. */
export function inpaintTargets(row: InpaintRow, classic: InpaintRow): TargetCheck[] {
  const name = row.label;
  if (row.holePsnr === null || classic.holePsnr === null || !row.criteria) {
    return [{ target: `inpaint (${name}): criteria vs Telea`, met: null, detail: 'not measurable: a row is missing' }];
  }
  const c = row.criteria;
  const pct = (x: number): string => `${(100 * x).toFixed(0)} %`;
  return [
    {
      target: `inpaint (${name}): on ≥ 75 % of held-out photos colour within 3 of Telea's error, hole PSNR ≥ Telea's − 1 dB and gradient energy 0.4–2× the truth's`,
      met: c.all >= 0.75,
      detail: `${pct(c.all)} (colour ${pct(c.colour)}, PSNR ${pct(c.psnr)}, texture ${pct(c.texture)})`,
    },
    {
      target: `inpaint (${name}): mean hole PSNR ≥ Telea's`,
      met: row.holePsnr >= classic.holePsnr,
      detail: `${row.holePsnr.toFixed(2)} vs ${classic.holePsnr.toFixed(2)} dB`,
    },
  ];
}

/** A pack to measure: its label, where it came from, and its fill. */
export interface InpaintPackRow {
  label: string;
  source: string;
  fill: (c: InpaintCase, seed: number) => Promise<PlanarImage>;
}

/**
 * Run the section: the Telea row, then each pack row over INPAINT_SEEDS seeds. Every output is
 * checked to keep the pixels outside the hole.
 */
export async function inpaintSection(cases: readonly InpaintCase[], packs: readonly (InpaintPackRow | { label: string; skipped: string })[], seed: number, log: (s: string) => void): Promise<InpaintSection> {
  if (cases.length === 0) throw new Error('no held-out crops for the inpaint section');
  const covs = cases.map((c) => mean(Array.from(c.mask)));
  log(`inpaint: Telea on ${cases.length} crops`);
  let ms = 0;
  const teleaMeasures: InpaintMeasures[] = [];
  for (const c of cases) {
    const t0 = performance.now();
    const out = teleaCase(c);
    ms += performance.now() - t0;
    checkOutside('Telea', c, out);
    teleaMeasures.push(measure(c, out));
  }
  const classic = summariseRow('Telea (classic fill)', 'baseline', 'core/image/telea.ts', [teleaMeasures], ms / cases.length, null);
  const rows: InpaintRow[] = [classic];
  const targets: TargetCheck[] = [];
  for (const p of packs) {
    if ('skipped' in p) {
      rows.push({ label: p.label, kind: 'model', images: 0, seeds: 0, holePsnr: null, holePsnrSpread: null, meanColourDistance: null, gradientEnergyRatio: null, gmsd: null, criteria: null, msPerImage: null, skipped: p.skipped });
      continue;
    }
    log(`inpaint: ${p.label} on ${cases.length} crops × ${INPAINT_SEEDS} seeds`);
    const bySeed: InpaintMeasures[][] = [];
    let t = 0;
    for (let s = 0; s < INPAINT_SEEDS; s++) {
      const got: InpaintMeasures[] = [];
      for (const [i, c] of cases.entries()) {
        const t0 = performance.now();
        const out = await p.fill(c, seed + 1000 * s + i);
        t += performance.now() - t0;
        checkOutside(p.label, c, out);
        got.push(measure(c, out));
      }
      bySeed.push(got);
    }
    const row = summariseRow(p.label, 'model', p.source, bySeed, t / (cases.length * INPAINT_SEEDS), teleaMeasures);
    rows.push(row);
    targets.push(...inpaintTargets(row, classic));
  }
  return {
    cropSize: (cases[0] as InpaintCase).truth.width,
    photos: cases.length,
    coverage: { min: Math.min(...covs), mean: mean(covs), max: Math.max(...covs) },
    rows,
    targets,
  };
}

/** A pack row for {@link inpaintSection}. */
export function packRow(label: string, model: PackModel, fill: (model: PackModel, image: PlanarImage, mask: Float32Array, seed: number) => Promise<PlanarImage>): InpaintPackRow {
  const m = model.manifest;
  return {
    label,
    source: `${m.name} ${m.version}, hole fill ${m.holeFill ?? 'zero'}, ${m.sampler.kind} ${m.sampler.steps} step${m.sampler.steps > 1 ? 's' : ''}`,
    fill: (c, seed) => fill(model, c.truth, c.mask, seed),
  };
}

/** The section as Markdown. */
export function renderInpaint(s: InpaintSection): string[] {
  const lines: string[] = [];
  const n = (x: number | null, d: number): string => (x === null ? '–' : Number.isFinite(x) ? x.toFixed(d) : '∞');
  const pct = (x: number | undefined): string => (x === undefined ? '–' : `${(100 * x).toFixed(0)} %`);
  lines.push(`## Inpaint (${s.photos} crops of ${s.cropSize}², one seeded mask each: strokes, boxes, blobs; coverage ${(100 * s.coverage.min).toFixed(0)}–${(100 * s.coverage.max).toFixed(0)} %, mean ${(100 * s.coverage.mean).toFixed(0)} %)`, '');
  lines.push(
    'Inside the hole against the truth: PSNR (RGB, 8-bit), mean-colour distance (0–255 RGB), gradient-energy ratio (Σ|∇Y|² fill / truth, median over photos; ≈ 1 texture, ≪ 1 blur, ≫ 1 noise); GMSD of the whole crop (lower is better). Packs: 3 seeds, per-photo means over them, spread = max − min of the mean hole PSNR over seeds; finished as the app finishes a fill (colour match to a ring, feathered paste). Criteria per photo against Telea on the same mask: colour ≤ Telea + 3, PSNR ≥ Telea − 1 dB, energy ratio 0.4–2.',
    '',
  );
  lines.push('| method | source | hole PSNR dB | spread | colour dist. | energy ratio | GMSD | colour ok | PSNR ok | texture ok | all three | ms / image |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of s.rows) {
    if (r.skipped) {
      lines.push(`| ${r.label} | skipped: ${r.skipped} | | | | | | | | | | |`);
      continue;
    }
    const tex = r.kind === 'baseline' && r.perPhoto ? r.perPhoto.filter((m) => m.gradientEnergyRatio >= 0.4 && m.gradientEnergyRatio <= 2).length / r.perPhoto.length : r.criteria?.texture;
    lines.push(
      `| ${r.label} | ${r.source ?? ''} | ${n(r.holePsnr, 2)} | ${n(r.holePsnrSpread, 2)} | ${n(r.meanColourDistance, 2)} | ${n(r.gradientEnergyRatio, 2)} | ${n(r.gmsd, 4)} | ${pct(r.criteria?.colour)} | ${pct(r.criteria?.psnr)} | ${pct(tex)} | ${pct(r.criteria?.all)} | ${n(r.msPerImage, 0)} |`,
    );
  }
  lines.push('');
  if (s.targets.length > 0) {
    lines.push('| inpaint target | met | detail |', '|---|---|---|');
    for (const t of s.targets) lines.push(`| ${t.target} | ${t.met === null ? 'n/a' : t.met ? 'yes' : 'NO'} | ${t.detail} |`);
    lines.push('');
  }
  return lines;
}
