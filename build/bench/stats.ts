/**
 * Shared measurement rules of `npm run bench` (docs/benchmarking.md §2): warm-ups, then the
 * median and p90 of the timed runs; the machine and library versions that produced a number.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

/** Timing of one measured thing, in milliseconds. */
export interface Timing {
  warmups: number;
  runs: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  samplesMs: number[];
}

export interface TimeOptions {
  warmups?: number;
  runs?: number;
}

/** Value at quantile q (0..1) of the samples, nearest-rank on the sorted copy. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil(q * s.length) - 1;
  return s[Math.min(s.length - 1, Math.max(0, rank))] as number;
}

export function summarise(samplesMs: readonly number[], warmups: number): Timing {
  return {
    warmups,
    runs: samplesMs.length,
    medianMs: quantile(samplesMs, 0.5),
    p90Ms: quantile(samplesMs, 0.9),
    minMs: Math.min(...samplesMs),
    samplesMs: samplesMs.map((x) => Math.round(x * 1000) / 1000),
  };
}

/** Run `fn` `warmups` times untimed (default 2), then `runs` times timed (default 5). */
export async function timeIt(fn: () => Promise<unknown> | unknown, options: TimeOptions = {}): Promise<Timing> {
  const warmups = options.warmups ?? 2;
  const runs = options.runs ?? 5;
  for (let i = 0; i < warmups; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarise(samples, warmups);
}

/** Where the numbers came from. */
export interface MachineDescription {
  cpuModel: string;
  logicalCores: number;
  cpuFlags: string[];
  memoryGiB: number;
  loadAverage1m: number;
  platform: string;
  node: string;
  onnxruntime: string;
  tfjs: string;
  tfjsBackendWasm: string;
  threads: number;
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    const pkgJson = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** SIMD flags that decide fp32 throughput (Linux only; empty elsewhere). */
function simdFlags(): string[] {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => l.startsWith('flags'));
    const flags = new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
    return ['avx', 'avx2', 'fma', 'avx512f', 'avx512_vnni', 'neon', 'asimd'].filter((f) => flags.has(f));
  } catch {
    return [];
  }
}

/** "family 25 model 17" from /proc/cpuinfo, which tells CPU generations apart when the name does not. */
function cpuFamily(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.+)$`, 'm').exec(info)?.[1]?.trim();
    const fam = field('cpu family');
    const model = field('model');
    return fam ? ` (family ${fam} model ${model ?? '?'})` : '';
  } catch {
    return '';
  }
}

export function describeMachine(threads: number): MachineDescription {
  const cpus = os.cpus();
  return {
    cpuModel: `${cpus[0]?.model.trim() ?? 'unknown'}${cpuFamily()}`,
    logicalCores: os.availableParallelism(),
    cpuFlags: simdFlags(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    tfjs: packageVersion('@tensorflow/tfjs'),
    tfjsBackendWasm: packageVersion('@tensorflow/tfjs-backend-wasm'),
    threads,
  };
}

export function machineLine(m: MachineDescription): string {
  return `${m.cpuModel}, ${m.logicalCores} logical cores (${m.cpuFlags.join(' ')}), ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node}, onnxruntime-node ${m.onnxruntime}, tfjs ${m.tfjs}, ${m.threads} intra-op threads; load avg ${m.loadAverage1m} at start`;
}

/** Resident set size of a process from /proc (bytes), or null where /proc is unavailable. */
export function procMemory(pid: number = process.pid): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(/(\d+)\s*kB/.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '')?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS:'), peak: kb('VmHWM:') };
  } catch {
    return null;
  }
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
