/**
 * `npm run bench`: the issue-7 comparisons in one run, each section a module under sections/.
 * Prints the Markdown report and writes bench/results/<date>.json and .md.
 *
 *   npm run bench                      full run on the bundled packs (native-models/)
 *   npm run bench -- --quick           CI-sized (small sizes, tiny test packs if none are bundled)
 *   npm run bench -- --only steps,peers
 *   options: --threads N (default: the engine's, all cores but one), --runs N (≥ 5), --out DIR, --test-packs
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultIntraOpThreads } from '../../electron/engine/ort.ts';
import { openBenchPacks } from './bench-packs.ts';
import { toMarkdown } from './report.ts';
import type { BenchReport } from './report.ts';
import { SECTION_IDS } from './section.ts';
import type { BenchContext, Section, SectionId } from './section.ts';
import { describeMachine } from './stats.ts';
import { ceiling } from './sections/ceiling.ts';
import { engines } from './sections/engines.ts';
import { inpaint } from './sections/inpaint.ts';
import { large } from './sections/large.ts';
import { peers } from './sections/peers.ts';
import { stability } from './sections/stability.ts';
import { steps } from './sections/steps.ts';
import { training } from './sections/training.ts';

export const SECTIONS: Record<SectionId, Section> = { ceiling, steps, engines, peers, large, inpaint, training, stability };

export const DEFAULT_OUT = fileURLToPath(new URL('../../bench/results', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The packs folder as a report names it: relative to the repository for the bundled packs, since
 * the report is committed and an absolute path would name one machine's checkout.
 */
export function reportedPacksDir(dir: string, root = REPO_ROOT): string {
  const rel = path.relative(root, dir);
  return rel.startsWith('..') || path.isAbsolute(rel) ? 'temporary test packs' : rel;
}

export interface BenchOptions {
  quick: boolean;
  only?: readonly SectionId[];
  threads?: number;
  runs?: number;
  outDir?: string;
  /** force the tiny test packs even when bundled packs exist (CI smoke test) */
  testPacks?: boolean;
  log?: (line: string) => void;
}

export function parseSectionList(text: string): SectionId[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!(SECTION_IDS as readonly string[]).includes(id)) throw new Error(`unknown section "${id}"; sections: ${SECTION_IDS.join(', ')}`);
  return ids as SectionId[];
}

/** Run the bench; returns the report and the paths written. */
export async function runBench(o: BenchOptions): Promise<{ report: BenchReport; json: string; md: string }> {
  const log = o.log ?? ((s: string) => console.error(s));
  // what the app uses (electron/engine/ort.ts defaultIntraOpThreads), unless --threads says otherwise
  const threads = o.threads ?? defaultIntraOpThreads(os.availableParallelism());
  const runs = Math.max(5, o.runs ?? 5);
  const startedAt = new Date().toISOString();
  const machine = describeMachine(threads);
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'codi-bench-'));
  try {
    const bp = await openBenchPacks(o.quick || o.testPacks === true, tmpDir, threads, log, o.testPacks === true);
    const ctx: BenchContext = { quick: o.quick, threads, seed: 7, runs, packs: bp.packs, packsDir: bp.dir, testPacks: bp.testPacks, net: bp.net, tmpDir, log };
    const report: BenchReport = {
      schema: 1,
      startedAt,
      quick: o.quick,
      machine,
      packs: { dir: reportedPacksDir(bp.dir), testPacks: bp.testPacks, names: bp.packs.records.filter((r) => r.status === 'ok').map((r) => r.name) },
      protocol: `Every timing: 2 warm-ups, then median and p90 of ${runs} runs (min for the conv microkernel); seeds fixed (7); ${threads} intra-op threads unless a row says otherwise.`,
      sections: [],
    };
    const outDir = o.outDir ?? DEFAULT_OUT;
    await mkdir(outDir, { recursive: true });
    const stem = `${startedAt.slice(0, 10)}${o.quick ? '-quick' : ''}${o.only ? `-${o.only.join('-')}` : ''}`;
    const json = path.join(outDir, `${stem}.json`);
    const md = path.join(outDir, `${stem}.md`);
    // Written after every section, so an interrupted run still leaves what it measured.
    const save = async (): Promise<void> => {
      report.loadAverageEnd = Math.round(os.loadavg()[0]! * 100) / 100;
      await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(md, toMarkdown(report));
    };
    try {
      for (const id of o.only ? SECTION_IDS.filter((x) => o.only?.includes(x)) : SECTION_IDS) {
        log(`[bench] ${id} …`);
        const t0 = performance.now();
        try {
          const r = await SECTIONS[id](ctx);
          report.sections.push({ id, ...r, seconds: (performance.now() - t0) / 1000 });
          log(`[bench] ${id} done in ${((performance.now() - t0) / 1000).toFixed(0)} s${r.goal ? `: ${r.goal.measured}` : ''}`);
        } catch (err) {
          const msg = (err as Error).message ?? String(err);
          report.sections.push({ id, title: id, error: msg, seconds: (performance.now() - t0) / 1000 });
          log(`[bench] ${id} failed: ${msg}`);
        }
        await save();
      }
    } finally {
      await bp.packs.close();
    }
    return { report, json, md };
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      threads: { type: 'string' },
      runs: { type: 'string' },
      out: { type: 'string' },
      'test-packs': { type: 'boolean', default: false },
    },
  });
  const { report, json, md } = await runBench({
    quick: values.quick === true,
    ...(values.only ? { only: parseSectionList(values.only) } : {}),
    ...(values.threads ? { threads: Number(values.threads) } : {}),
    ...(values.runs ? { runs: Number(values.runs) } : {}),
    ...(values.out ? { outDir: values.out } : {}),
    testPacks: values['test-packs'] === true,
  });
  console.log(toMarkdown(report));
  console.error(`[bench] wrote ${json} and ${md}`);
  // TF.js wasm and ORT keep handles open; the report is written, so end here.
  process.exit(0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
