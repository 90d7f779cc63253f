/**
 * Bench section 7, training: samples/s and GFLOP/s of one CoDi training step on wasm + project kernels and
 * on the stock cpu backend, from training/bench/train-step-bench.ts (run as its own process, as
 * `npm run bench:train` does), and the Quick personal-adapter preset's wall time from
 * build/bench/adapter.ts (`npm run bench:adapter`) when that bench exists.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Section } from '../section.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');

function runTsx(script: string, args: string[], timeoutMs: number): Promise<{ out: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TSX_CLI, script, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${script} failed: ${String(stderr).trim().split('\n').slice(-3).join(' | ') || err.message}`));
      else resolve({ out: String(stdout), ms: performance.now() - t0 });
    });
  });
}

/** Rows of the Markdown table the step bench prints: | backend | timed steps | ms/step | samples/s | GFLOP/s |. */
export function parseStepTable(out: string): { backend: string; timedSteps: number; msPerStep: number; samplesPerSec: number; gflops: number }[] {
  return out
    .split('\n')
    .filter((l) => /^\| .* \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$/.test(l))
    .map((l) => {
      const c = l.split('|').slice(1, -1).map((x) => x.trim());
      return { backend: c[0]!, timedSteps: Number(c[1]), msPerStep: Number(c[2]), samplesPerSec: Number(c[3]), gflops: Number(c[4]) };
    });
}

export const training: Section = async (ctx) => {
  // Backend comparison on a size the stock cpu backend finishes in about a minute, then (full
  // run) wasm alone at the bundled packs' training shape (small net, 64 px crops, batch 16).
  const compare = ctx.quick ? ['--latent', '8', '--batch', '4', '--steps', '5', '--net', 'tiny'] : ['--latent', '8', '--batch', '2', '--steps', '5', '--net', 'small'];
  const runsOf = ctx.quick ? [compare] : [compare, ['--latent', '16', '--batch', '16', '--steps', '3', '--net', 'small', '--skip-cpu']];
  const rows: Record<string, string | number>[] = [];
  const notes: string[] = [];
  for (const args of runsOf) {
    const { out } = await runTsx('training/bench/train-step-bench.ts', args, 600_000);
    const parsed = parseStepTable(out);
    if (parsed.length === 0) throw new Error(`train-step-bench printed no table:\n${out}`);
    const shape = /net (\w+) \(base \d+, ×\[[\d,]+\]\), latent (\d+)×\d+×48, batch (\d+)/.exec(out);
    const label = shape ? `net ${shape[1]}, latent ${shape[2]}², batch ${shape[3]}` : args.join(' ');
    rows.push(...parsed.map((r) => ({ config: label, ...r })));
    notes.push(`${label}: ${out.split('\n')[1]?.trim() ?? ''}`);
    const speedup = /wasm \/ cpu speed-up: ([\d.]+)×/.exec(out)?.[1];
    if (speedup) notes.push(`${label}: wasm + project kernels vs stock cpu = ${speedup}× samples/s.`);
  }
  notes.push('training/bench/train-step-bench.ts: 2 warm-up steps, then the timed steps on wasm as one mean; the cpu backend is timed over a single step (≈100× slower).');
  const adapterBench = 'build/bench/adapter.ts';
  if (ctx.quick) {
    notes.push('Quick personal-adapter preset: skipped in --quick (it trains for minutes); the full run calls `npm run bench:adapter`.');
  } else if (existsSync(`${ROOT}${adapterBench}`)) {
    try {
      // engineer N's bench: Quick preset end to end, target ≤ 10 min
      const r = await runTsx(adapterBench, [], 900_000);
      rows.push({ config: 'Quick personal-adapter preset (npm run bench:adapter)', backend: '', timedSteps: '', msPerStep: '', samplesPerSec: '', gflops: `wall ${(r.ms / 1000).toFixed(0)} s` });
      notes.push(`bench:adapter output (last lines): ${r.out.trim().split('\n').slice(-4).join(' | ')}`);
    } catch (err) {
      notes.push(`bench:adapter failed: ${(err as Error).message}`);
    }
  } else {
    notes.push('Quick personal-adapter preset: not available (build/bench/adapter.ts does not exist yet).');
  }
  return { title: '7. Training', goal: null, rows, notes };
};
