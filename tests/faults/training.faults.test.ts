/**
 * Training faults through the real CLI (`node bin/codi.mjs train`) on the tiny synthetic task:
 * corrupt dataset pairs are all reported before any step, a run killed with SIGKILL after a
 * checkpoint resumes from it and continues the step count, and a diverging run (NaN loss) exits
 * with code 2 without writing a pack.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../electron/broker/fork.ts';
import { readDataset } from '../../training/data/dataset-reader.ts';
import { writeSyntheticRestoreTask } from '../../training/data/synthetic-task.ts';
import { lyingPngHeader } from '../fixtures-gen/image-corpus.ts';
import { OriginalsLedger } from './harness.ts';

let tmp: string;
let data: string;
const ledger = new OriginalsLedger();

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-faults-train-'));
  data = path.join(tmp, 'data');
  await writeSyntheticRestoreTask({ dir: data, size: 16, train: 8, val: 2, seed: 3 });
  const files = (await readdir(data, { recursive: true })).map((f) => path.join(data, f)).filter((f) => f.endsWith('.png') || f.endsWith('.json') || f.endsWith('.jsonl'));
  await ledger.add(...files);
});
afterAll(async () => {
  expect(await ledger.changed()).toEqual([]);
  await rm(tmp, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

function train(args: string[]): Run {
  const child = spawn(process.execPath, ['bin/codi.mjs', 'train', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => text, exit };
}

const common = (out: string) => ['--method', 'pretrain', '--data', data, '--out', out, '--net', 'tiny', '--batch', '2', '--backend', 'wasm'];

describe('faults: training', () => {
  it('training-bad-pairs: every corrupt pair is reported with its reason before training', async () => {
    const bad = path.join(tmp, 'bad-data');
    await cp(data, bad, { recursive: true });
    await truncate(path.join(bad, 'target', '00001.png'), 40);
    await writeFile(path.join(bad, 'target', 'bomb.png'), lyingPngHeader(50_000, 50_000));
    const lines = [
      { split: 'train', target: 'target/bomb.png', input: 'input/00000.png', scale: 2 },
      { split: 'train', target: 'target/00000.png', input: 'input/missing.png', scale: 2 },
      { split: 'train', target: 'target/00000.png', input: 'target/00002.png', scale: 2 },
    ];
    await appendFile(path.join(bad, 'items.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    let message = '';
    try {
      await readDataset(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/bad item\(s\)/);
    const count = Number(/(\d+) bad item\(s\)/.exec(message)?.[1]);
    expect(count).toBeGreaterThanOrEqual(4);
    expect(message).toMatch(/target\/00001\.png: .*corrupt/);
    expect(message).toMatch(/target\/bomb\.png: .*exceeds pixel limit/);
    expect(message).toMatch(/missing\.png/);
    expect(message).toMatch(/input 16×16 × scale 2 does not give 16×16/);
    // The CLI says the same and exits 1 without training.
    const cli = train([...common(path.join(tmp, 'bad-out')).map((a) => (a === data ? bad : a)), '--steps', '2']);
    expect(await cli.exit).toBe(1);
    expect(cli.out()).toMatch(/bad item\(s\)/);
    expect(existsSync(path.join(tmp, 'bad-out', 'manifest.json'))).toBe(false);
  });

  it('training-kill-resume: a run killed with SIGKILL after a checkpoint resumes from it and continues the steps', async () => {
    const out = path.join(tmp, 'bb');
    const runDir = `${out}.run`;
    const first = train([...common(out), '--steps', '200', '--checkpoint-every', '2']);
    const t0 = Date.now();
    while (!existsSync(path.join(runDir, 'latest.json')) && Date.now() - t0 < 60_000 && first.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(path.join(runDir, 'latest.json')), first.out()).toBe(true);
    first.child.kill('SIGKILL');
    expect(await first.exit).toBeNull();
    const latest = JSON.parse(await readFile(path.join(runDir, 'latest.json'), 'utf8')) as { step?: number; dir?: string };
    const at = Number(latest.step ?? /(\d+)/.exec(String(latest.dir))?.[1]);
    expect(at).toBeGreaterThanOrEqual(2);
    const second = train([...common(out), '--resume', '--steps', String(at + 2)]);
    expect(await second.exit, second.out()).toBe(0);
    expect(second.out()).toContain(`at step ${at}`);
    // The step count continues from the checkpoint: the next checkpoint is at + 2, not 2.
    expect(second.out()).toMatch(new RegExp(`checkpoint step ${at + 2} → `));
    expect(second.out()).not.toMatch(/^step 1\//m);
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(true);
  });

  it('training-nan: a diverging run is stopped with exit code 2 and no pack is written', async () => {
    const out = path.join(tmp, 'diverged');
    // A learning rate of 1e38 overflows float32 within a step: the NaN guard must catch it.
    const run = train([...common(out), '--steps', '5', '--lr', '1e38']);
    expect(await run.exit, run.out()).toBe(2);
    expect(run.out()).toMatch(/training diverged at step \d+: non-finite/);
    const written = existsSync(out) ? await readdir(out) : [];
    expect(written.filter((f) => f.endsWith('.onnx') || f === 'manifest.json')).toEqual([]);
  });
});
