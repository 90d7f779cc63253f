import { describe, expect, it } from 'vitest';
import type { ConfigResult, SeedResults } from './evaluate.ts';
import { ROWS, rowsAt, trainJobs } from './plan.ts';
import { checkClaims, difference } from './report.ts';
import { disjoint, meanInterval, pairedDifference } from './stats.ts';

const opts = { runsDir: 'runs', scale: 'small' as const, seed: 2, data: 'data', backbone: 'bb', threads: 1 };

/** A job's arguments without what names the row itself (method, start, row flags, folders, name). */
function shared(args: readonly string[]): string[] {
  const own = new Set(['--method', '--backbone', '--init', '--run-dir', '--out', '--name', '--t-sampling', '--consistency-space', '--ode', '--residual', '--residual-scale', '--steps']);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--resume') continue;
    if (own.has(args[i]!)) i++;
    else out.push(args[i]!);
  }
  return out;
}

describe('replication plan', () => {
  it('gives every row the same budget, data order and engine; only the row’s own switches differ', () => {
    const jobs = trainJobs(opts);
    const students = jobs.filter((j) => j.row !== 'teacher');
    expect(students.map((j) => j.row)).toEqual(rowsAt('small').filter((r) => r.id !== 'teacher').map((r) => r.id));
    expect(students.map((j) => j.row)).not.toContain('codi-plain');
    const base = shared(jobs[0]!.args);
    for (const j of jobs) expect(shared(j.args)).toEqual(base);
    expect(base).toEqual(expect.arrayContaining(['--seed', '2', '--mu-lr-scale', '40', '--engine', 'torch', '--threads', '1']));
    const steps = new Set(students.map((j) => j.args[j.args.indexOf('--steps') + 1]));
    expect(steps.size).toBe(1);
  });

  it('starts CM from the final teacher stage and CoDi/PE-CoDi from the backbone; teacher stages resume one run', () => {
    const jobs = trainJobs(opts);
    const teacher = jobs.filter((j) => j.row === 'teacher');
    expect(teacher.map((j) => j.resume)).toEqual([false, true, true]);
    expect(new Set(teacher.map((j) => j.args[j.args.indexOf('--run-dir') + 1])).size).toBe(1);
    const cm = jobs.find((j) => j.row === 'cm')!;
    expect(cm.args[cm.args.indexOf('--init') + 1]).toBe(teacher[teacher.length - 1]!.out);
    for (const row of ['codi', 'pe-codi', 'codi-no-ode'] as const) {
      const j = jobs.find((x) => x.row === row)!;
      expect(j.args[j.args.indexOf('--backbone') + 1]).toBe('bb');
    }
    // the paper's defaults vs the ablations
    const flagsOf = (row: string) => jobs.find((j) => j.row === row)!.args;
    expect(flagsOf('codi')).toEqual(expect.arrayContaining(['--t-sampling', 'shared']));
    expect(flagsOf('codi')).not.toContain('--consistency-space');
    expect(flagsOf('codi-x-consistency')).toEqual(expect.arrayContaining(['--consistency-space', 'x']));
    expect(flagsOf('codi-no-ode')).toEqual(expect.arrayContaining(['--ode', 'none']));
  });

  it('a residual-target scale puts every row but "plain x targets" on residual targets', () => {
    const jobs = trainJobs({ ...opts, scale: 'medium' });
    const rows = jobs.map((j) => j.row);
    expect(rows).toContain('codi-plain');
    expect(rows).not.toContain('codi-residual');
    expect(new Set(rows)).toEqual(new Set(ROWS.filter((r) => r.id !== 'codi-residual').map((r) => r.id)));
    for (const j of jobs) {
      const at = j.args.indexOf('--residual');
      if (j.row === 'codi-plain') expect(at).toBe(-1);
      else expect([j.args[at + 1], j.args[j.args.indexOf('--residual-scale') + 1]]).toEqual(['condition', '4']);
    }
  });

  it('trains only the asserted rows at CI size', () => {
    expect(rowsAt('ci').map((r) => r.id)).toEqual(['teacher', 'codi', 'cm']);
    expect(trainJobs({ ...opts, scale: 'ci' }).map((j) => j.row)).toEqual(['teacher', 'codi', 'cm']);
  });
});

describe('replication statistics', () => {
  it('t-interval and paired differences', () => {
    const iv = meanInterval([1, 2, 3]);
    expect(iv.mean).toBe(2);
    expect(iv.half).toBeCloseTo(4.303 * Math.sqrt(1 / 3), 6);
    expect(meanInterval([5]).half).toBeNull();
    expect(pairedDifference([3, 4, 5], [1, 2, 3])).toEqual({ mean: 2, half: 0, n: 3 });
    expect(disjoint(meanInterval([1, 1.1, 0.9]), meanInterval([2, 2.1, 1.9]))).toBe(true);
    expect(disjoint(meanInterval([1, 3]), meanInterval([2, 2.5]))).toBe(false);
  });
});

function result(psnrs: number[]): ConfigResult {
  return { psnr: psnrs, ssim: psnrs.map(() => 0.5), gmsd: psnrs.map(() => 0.1), frechet: null, featureL2: null, msPerImage: 1 };
}

function seedWith(seed: number, shift: number, codi4: number, ddim4: number, ddim50: number, cm4: number): SeedResults {
  const crops = (v: number) => [v + shift, v + 0.3 + shift, v - 0.2 + shift];
  return {
    seed,
    teacherCurve: [],
    rows: {
      teacher: { 'DDIM 4': result(crops(ddim4)), 'DDIM 50': result(crops(ddim50)) },
      codi: { '4 det': result(crops(codi4)) },
      cm: { '4 det': result(crops(cm4)) },
    },
  };
}

describe('replication verdicts', () => {
  const bicubic = result([20, 20, 20]);
  it('two-sided: a claim holds, fails or is not separated from the same evidence', () => {
    const seeds = [seedWith(0, 0, 24, 22, 24.1, 21), seedWith(1, 0.2, 24.1, 22.1, 24.1, 21.2), seedWith(2, -0.1, 23.9, 21.9, 24.05, 20.9)];
    const c = checkClaims(seeds, bicubic);
    const by = (prefix: string) => c.find((x) => x.claim.startsWith(prefix))!.verdict;
    expect(by('the teacher is competent')).toBe('holds');
    expect(by('CoDi-4 (deterministic sampler) is within 0.5 dB')).toBe('holds');
    expect(by('CoDi-4 beats the teacher’s DDIM-4')).toBe('holds');
    expect(by('CoDi-4 beats CM-4')).toBe('holds');
    // CoDi far below the teacher: the 0.5 dB claim fails, and beating DDIM-4 is reversed
    const bad = [seedWith(0, 0, 20, 22, 24.1, 21), seedWith(1, 0.2, 20.1, 22.1, 24, 21.2), seedWith(2, -0.1, 19.9, 21.9, 24.2, 20.9)];
    const c2 = checkClaims(bad, bicubic);
    expect(c2.find((x) => x.claim.startsWith('CoDi-4 (deterministic'))!.verdict).toBe('fails');
    expect(c2.find((x) => x.claim.startsWith('CoDi-4 beats the teacher'))!.verdict).toBe('fails');
  });

  it('fails the DDIM-50 claim when CoDi-4 is within 0.5 dB but its feature distance is clearly worse', () => {
    const withFrechet = (seed: SeedResults, codi: number, t50: number): SeedResults => {
      const rows = structuredClone(seed.rows);
      rows['codi']!['4 det']!.frechet = codi;
      rows['teacher']!['DDIM 50']!.frechet = t50;
      return { ...seed, rows };
    };
    const base = [seedWith(0, 0, 24, 22, 24.1, 21), seedWith(1, 0.2, 24.1, 22.1, 24.1, 21.2), seedWith(2, -0.1, 23.9, 21.9, 24.05, 20.9)];
    const verdict = (seeds: SeedResults[]) => checkClaims(seeds, bicubic).find((x) => x.claim.startsWith('CoDi-4 (deterministic'))!.verdict;
    expect(verdict(base.map((sd, i) => withFrechet(sd, 3 + 0.1 * i, 5 + 0.1 * i)))).toBe('holds');
    expect(verdict(base.map((sd, i) => withFrechet(sd, 4.9 + 0.2 * i, 5 + 0.1 * i)))).toBe('holds');
    expect(verdict(base.map((sd, i) => withFrechet(sd, 8 + 0.1 * i, 5 + 0.1 * i)))).toBe('fails');
  });

  it('falls back to crop-paired intervals with one seed', () => {
    const d = difference([seedWith(0, 0, 24, 22, 24, 21)], ['codi', '4 det'], ['teacher', 'DDIM 4'], 'psnr');
    expect(d?.over).toBe('crops');
    expect(d?.iv.n).toBe(3);
    expect(d?.iv.mean).toBeCloseTo(2, 9);
  });
});
