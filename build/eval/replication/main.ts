/**
 * `npm run eval -- --replication [--scale ci|small|medium|full] [--seeds N] [--first-seed K] [--phase train|eval|all]
 *  [--threads N] [--out-date YYYY-MM-DD]`: the small-scale replication of the CoDi paper's claims
 * (issue 21). Trains every row of plan.ts for each seed (resumable: finished packs are skipped,
 * interrupted runs resume from their checkpoints), evaluates every row with its samplers on the
 * held-out photos (each evaluated configuration is cached), and writes
 * bench/results/replication-<date>.md/.json. Everything it trains lives under training-runs/
 * (git-ignored).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReplicationScale } from './plan.ts';
import { SCALES, trainJobs } from './plan.ts';
import { ensureCleanData, runTrainJobs } from './train-rows.ts';
import type { ReplicationOptions } from './options.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export type { ReplicationOptions } from './options.ts';

export function parseReplicationArgs(argv: readonly string[]): Partial<ReplicationOptions> {
  const o: Partial<ReplicationOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--replication':
        break;
      case '--scale': {
        const v = next();
        if (!(v in SCALES)) throw new Error(`--scale must be ${Object.keys(SCALES).join(', ')}; got "${v}"`);
        o.scale = v as ReplicationScale;
        break;
      }
      case '--seeds': {
        const n = Number(next());
        if (!Number.isInteger(n) || n < 1) throw new Error('--seeds must be a positive integer');
        o.seeds = n;
        break;
      }
      case '--phase': {
        const v = next();
        if (v !== 'train' && v !== 'eval' && v !== 'all') throw new Error(`--phase must be train, eval or all; got "${v}"`);
        o.phase = v;
        break;
      }
      case '--threads': {
        const n = Number(next());
        if (!Number.isInteger(n) || n < 1) throw new Error('--threads must be a positive integer');
        o.threads = n;
        break;
      }
      case '--first-seed': {
        const n = Number(next());
        if (!Number.isInteger(n) || n < 0) throw new Error('--first-seed must be a non-negative integer');
        o.firstSeed = n;
        break;
      }
      case '--out-date':
        o.date = next();
        break;
      case '--backbone':
        o.backbone = next();
        break;
      default:
        throw new Error(`unknown replication option "${a}" (--scale, --seeds, --first-seed, --phase, --threads, --out-date, --backbone)`);
    }
  }
  return o;
}

export function resolveReplicationOptions(p: Partial<ReplicationOptions>): ReplicationOptions {
  return {
    scale: p.scale ?? 'small',
    seeds: p.seeds ?? 3,
    firstSeed: p.firstSeed ?? 0,
    phase: p.phase ?? 'all',
    threads: p.threads ?? 1,
    runsDir: p.runsDir ?? path.join(ROOT, 'training-runs'),
    dataRoot: p.dataRoot ?? path.join(ROOT, 'datasets'),
    backbone: p.backbone ?? path.join(ROOT, 'native-models', 'codi-backbone'),
    resultsDir: p.resultsDir ?? path.join(ROOT, 'bench', 'results'),
    date: p.date ?? new Date().toISOString().slice(0, 10),
    log: p.log ?? ((line) => console.log(line)),
  };
}

/** Train (seed by seed: all rows of seed 0 first, so a partial run has complete seeds), then evaluate. */
export async function runReplication(o: ReplicationOptions): Promise<{ mdPath?: string; jsonPath?: string }> {
  const sc = SCALES[o.scale];
  const data = await ensureCleanData(o.dataRoot, sc.datasetCount, o.log, sc.data);
  if (o.phase !== 'eval') {
    for (let seed = o.firstSeed; seed < o.firstSeed + o.seeds; seed++) {
      await runTrainJobs(trainJobs({ runsDir: o.runsDir, scale: o.scale, seed, data, backbone: o.backbone, threads: o.threads }), o.log);
    }
  }
  if (o.phase === 'train') return {};
  const { evaluateReplication } = await import('./evaluate.ts');
  return evaluateReplication(o, data);
}
