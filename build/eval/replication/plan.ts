/**
 * What the replication of the CoDi paper's claims trains (issue 21): one task (×4 restoration of
 * clean bicubic inputs), one backbone, one data set, and every row from the same budget. Pure: the
 * plan is data, so a test can check that the rows differ ONLY in what the row is about.
 *
 * Fairness rules the plan encodes:
 * - every student gets the same steps, batch, learning rate, μ learning-rate scale, warm-up, crop,
 *   seed (hence the same data order and noise draws) and network;
 * - CoDi and PE-CoDi start from the unconditional backbone, as in the paper; CM starts from the
 *   conditional teacher that was fine-tuned from that backbone with the v-loss, as CM-II does
 *   (docs/method.md §9.3) — so CM gets the teacher's steps on top, which the report states;
 * - a row changes one switch against "codi" (the paper's defaults: shared t per batch, ε-space
 *   consistency, the adapted model's ODE step with the true ε, plain x targets).
 */

export type ReplicationScale = 'ci' | 'small' | 'medium' | 'full';

export type RowId = 'teacher' | 'codi' | 'pe-codi' | 'cm' | 'codi-x-consistency' | 'codi-no-ode' | 'codi-per-sample' | 'codi-residual' | 'codi-plain';

export interface ScaleSpec {
  /** teacher stages: the teacher is trained in resumed stages, each exported, for its curve */
  teacherStages: readonly number[];
  studentSteps: number;
  batch: number;
  lr: number;
  warmup: number;
  muLrScale: number;
  /** training crop in px (the data set's items are 64 px) */
  crop: number;
  maxItems: number;
  /** evaluation crops (held-out photos; 0 = all) */
  evalCrops: number;
  /** side of the evaluated HR image in px (the held-out 256 px crop is resized to it) */
  evalSize: number;
  /** feature distances (Inception-nsfwjs) computed at this scale */
  features: boolean;
  /** the full sampler set, or a reduced one for CI */
  samplers: 'all' | 'ci';
  checkpointEvery: number;
  /** data set to build (count, 64 px items; 'ci' reads the first maxItems of the small one) */
  datasetCount: number;
  /** the rows trained at this scale (all, or the few the CI test asserts on) */
  rows: 'all' | readonly RowId[];
  /**
   * 'photos': the clean twin of a restore set built from the training photo library, evaluated on
   * the held-out photos; 'synthetic': rendered shapes and gradients for both (disjoint seeds), so
   * the CI-size run needs no photo packages installed.
   */
  data: 'photos' | 'synthetic';
  /**
   * What every row generates: 'x' the photo itself; 'residual' k·(x − b), b = the bicubic image in
   * the condition (core/residual.ts), k = RESIDUAL_SCALE. A residual scale swaps the variant row:
   * 'x' scales carry "CoDi, residual targets", 'residual' scales "CoDi, plain x targets".
   */
  targets: 'x' | 'residual';
}

/** k of the residual targets: the shipped restore pack's (its residual's std 0.13 → ~0.5). */
export const RESIDUAL_SCALE = 4;
const RESIDUAL_FLAGS = ['--residual', 'condition', '--residual-scale', String(RESIDUAL_SCALE)] as const;

/**
 * Sizes. 'small' is what a 2-core machine shared with other work finishes in about an hour per
 * seed; 'full' is the same recipe with the step counts the bundled baselines used.
 */
export const SCALES: Readonly<Record<ReplicationScale, ScaleSpec>> = {
  ci: { teacherStages: [40], studentSteps: 40, batch: 8, lr: 1e-3, warmup: 5, muLrScale: 40, crop: 32, maxItems: 200, evalCrops: 4, evalSize: 32, features: false, samplers: 'ci', checkpointEvery: 20, datasetCount: 400, rows: ['teacher', 'codi', 'cm'], data: 'synthetic', targets: 'x' },
  small: { teacherStages: [100, 200, 400], studentSteps: 150, batch: 8, lr: 1e-3, warmup: 20, muLrScale: 40, crop: 32, maxItems: 1500, evalCrops: 0, evalSize: 64, features: true, samplers: 'all', checkpointEvery: 50, datasetCount: 1600, rows: 'all', data: 'photos', targets: 'x' },
  // measured 2026-12-06: ~50 samples/s per core at 32 px crops whatever the batch (compute-bound).
  // With x targets the seed-0 teacher's held-out DDIM-1 was 18.20 / 18.89 / 19.07 dB at 2 000 /
  // 5 000 / 10 000 steps (bicubic 21.14, first 8 crops): it never learned the condition well enough;
  // with residual targets it was 21.48 dB at 2 000 steps. So 'medium' runs every row on residual
  // targets, the plain-x CoDi as the variant row, in ~0.45 core-hours per seed
  medium: { teacherStages: [1000, 3000], studentSteps: 1000, batch: 8, lr: 1e-3, warmup: 20, muLrScale: 40, crop: 32, maxItems: 1500, evalCrops: 0, evalSize: 64, features: true, samplers: 'all', checkpointEvery: 500, datasetCount: 1600, rows: 'all', data: 'photos', targets: 'residual' },
  full: { teacherStages: [200, 400, 800, 1600], studentSteps: 600, batch: 16, lr: 1e-3, warmup: 20, muLrScale: 40, crop: 64, maxItems: 3000, evalCrops: 0, evalSize: 64, features: true, samplers: 'all', checkpointEvery: 100, datasetCount: 6000, rows: 'all', data: 'photos', targets: 'x' },
};

/** Image seeds of the synthetic data: the evaluation images never come from the training stream. */
export const SYNTHETIC_SEEDS = { train: 21, evaluation: 9001 } as const;

export interface RowSpec {
  id: RowId;
  label: string;
  /** what this row changes against "codi" (or what it is) */
  what: string;
  method: 'teacher' | 'codi' | 'pe-codi' | 'cm';
  /** extra `codi train` flags of this row */
  flags: readonly string[];
}

/** Table order. The teacher comes first (CM needs it). */
export const ROWS: readonly RowSpec[] = [
  { id: 'teacher', label: 'teacher (v-loss)', what: 'conditional model fine-tuned from the backbone with the v-loss', method: 'teacher', flags: [] },
  { id: 'codi', label: 'CoDi', what: 'paper defaults: shared t, ε-space consistency, adapted-model ODE with the true ε', method: 'codi', flags: ['--t-sampling', 'shared'] },
  { id: 'cm', label: 'CM', what: 'consistency distillation of the teacher (CM-II), x-space, no ground-truth term', method: 'cm', flags: [] },
  { id: 'pe-codi', label: 'PE-CoDi', what: 'backbone frozen, only the conditional branch and μ trained', method: 'pe-codi', flags: ['--t-sampling', 'shared'] },
  { id: 'codi-x-consistency', label: 'CoDi − noise consistency', what: 'consistency on x̂ instead of ε̂', method: 'codi', flags: ['--t-sampling', 'shared', '--consistency-space', 'x'] },
  { id: 'codi-no-ode', label: 'CoDi − PF-ODE distillation', what: 'ẑ_s from the forward process (no ODE step)', method: 'codi', flags: ['--t-sampling', 'shared', '--ode', 'none'] },
  { id: 'codi-per-sample', label: 'CoDi, per-sample t (shipped)', what: 'one t per sample (released code; the shipped packs)', method: 'codi', flags: ['--t-sampling', 'per-sample'] },
  { id: 'codi-residual', label: `CoDi, residual targets k = ${RESIDUAL_SCALE} (shipped)`, what: `generates ${RESIDUAL_SCALE}·(x − bicubic)`, method: 'codi', flags: ['--t-sampling', 'shared', ...RESIDUAL_FLAGS] },
  { id: 'codi-plain', label: 'CoDi, plain x targets', what: 'generates the photo x itself instead of the residual', method: 'codi', flags: ['--t-sampling', 'shared'] },
];

/** The rows trained at a scale, in table order (one of the two target variants, see ScaleSpec.targets). */
export function rowsAt(scale: ReplicationScale): RowSpec[] {
  const sc = SCALES[scale];
  const variant: RowId = sc.targets === 'x' ? 'codi-plain' : 'codi-residual';
  return ROWS.filter((r) => r.id !== variant && (sc.rows === 'all' || sc.rows.includes(r.id)));
}

/** The target flags of a row: every row follows the scale's targets except the variant row. */
function targetFlags(scale: ReplicationScale, row: RowId): readonly string[] {
  return SCALES[scale].targets === 'x' || row === 'codi-plain' ? [] : RESIDUAL_FLAGS;
}

/** Where everything of one scale lives (under the git-ignored training-runs/). */
export function scaleRoot(runsDir: string, scale: ReplicationScale): string {
  return `${runsDir}/replication/${scale}`;
}

export function seedDir(runsDir: string, scale: ReplicationScale, seed: number): string {
  return `${scaleRoot(runsDir, scale)}/seed-${seed}`;
}

/** A row's pack name, which is also its folder name (the pack registry requires that). */
export function packName(seed: number, row: RowId, stage?: number): string {
  return `replication-${row}-s${seed}${stage !== undefined ? `-${stage}` : ''}`;
}

/** Pack folder of a row (the teacher's stages are replication-teacher-s<seed>-<steps>). */
export function packDir(runsDir: string, scale: ReplicationScale, seed: number, row: RowId, stage?: number): string {
  return `${seedDir(runsDir, scale, seed)}/packs/${packName(seed, row, stage)}`;
}

export function runDir(runsDir: string, scale: ReplicationScale, seed: number, row: RowId): string {
  return `${seedDir(runsDir, scale, seed)}/runs/${row}.run`;
}

export interface TrainJob {
  row: RowId;
  seed: number;
  /** the pack this job writes; the job is done when its manifest.json exists */
  out: string;
  /** true when the job continues the row's run folder (teacher stages after the first) */
  resume: boolean;
  args: string[];
}

/**
 * The `codi train` invocations of one seed, in order. Every job shares `common`, so batch, lr,
 * μ lr scale, warm-up, crop, seed and engine cannot drift between rows.
 */
export function trainJobs(o: { runsDir: string; scale: ReplicationScale; seed: number; data: string; backbone: string; threads: number }): TrainJob[] {
  const sc = SCALES[o.scale];
  const common = [
    '--task', 'restore', '--data', o.data, '--engine', 'torch', '--threads', String(o.threads),
    '--batch', String(sc.batch), '--lr', String(sc.lr), '--warmup', String(sc.warmup), '--mu-lr-scale', String(sc.muLrScale),
    '--crop', String(sc.crop), '--max-items', String(sc.maxItems), '--seed', String(o.seed), '--checkpoint-every', String(sc.checkpointEvery),
  ];
  const jobs: TrainJob[] = [];
  const teacherRun = runDir(o.runsDir, o.scale, o.seed, 'teacher');
  sc.teacherStages.forEach((steps, i) => {
    const out = packDir(o.runsDir, o.scale, o.seed, 'teacher', steps);
    jobs.push({
      row: 'teacher',
      seed: o.seed,
      out,
      resume: i > 0,
      args: ['--method', 'teacher', ...targetFlags(o.scale, 'teacher'), '--backbone', o.backbone, '--steps', String(steps), '--run-dir', teacherRun, '--out', out, '--name', packName(o.seed, 'teacher', steps), ...(i > 0 ? ['--resume'] : []), ...common],
    });
  });
  const teacher = packDir(o.runsDir, o.scale, o.seed, 'teacher', sc.teacherStages[sc.teacherStages.length - 1]);
  for (const row of rowsAt(o.scale)) {
    if (row.id === 'teacher') continue;
    const out = packDir(o.runsDir, o.scale, o.seed, row.id);
    const start = row.method === 'cm' ? ['--init', teacher] : ['--backbone', o.backbone];
    jobs.push({
      row: row.id,
      seed: o.seed,
      out,
      resume: false,
      args: ['--method', row.method, ...start, ...row.flags, ...targetFlags(o.scale, row.id), '--steps', String(sc.studentSteps), '--run-dir', runDir(o.runsDir, o.scale, o.seed, row.id), '--out', out, '--name', packName(o.seed, row.id), ...common],
    });
  }
  return jobs;
}

/** One evaluated configuration: a pack and how it is sampled. */
export interface SamplerSpec {
  label: string;
  kind: 'ddim' | 'dpmpp-2m' | 'codi' | 'codi-renoise';
  steps: number;
}

/** Samplers per row kind (issue 21): teacher DDIM 4/8/50 and DPM-Solver++(2M) 4/8; students CoDi 1/2/4/8, both samplers. */
export function samplersFor(row: RowId, scale: ReplicationScale): SamplerSpec[] {
  const ci = SCALES[scale].samplers === 'ci';
  if (row === 'teacher') {
    const list: SamplerSpec[] = [
      { label: 'DDIM 4', kind: 'ddim', steps: 4 },
      { label: 'DDIM 50', kind: 'ddim', steps: 50 },
    ];
    // DDIM 1 is the teacher's one-step estimate of E[x | condition] from pure noise: the check that
    // it learned to use the condition at all, separate from how well it samples
    if (!ci) list.push({ label: 'DDIM 1', kind: 'ddim', steps: 1 }, { label: 'DDIM 8', kind: 'ddim', steps: 8 }, { label: 'DPM-Solver++ 4', kind: 'dpmpp-2m', steps: 4 }, { label: 'DPM-Solver++ 8', kind: 'dpmpp-2m', steps: 8 });
    return list;
  }
  const steps = ci ? [1, 4] : [1, 2, 4, 8];
  const out: SamplerSpec[] = steps.map((n) => ({ label: `${n} det`, kind: 'codi', steps: n }));
  if (!ci) for (const n of steps) if (n > 1) out.push({ label: `${n} renoise`, kind: 'codi-renoise', steps: n });
  return out;
}
