/**
 * The PyTorch engine follows the TF.js trainer: the same 20-step loss curve from the same
 * initialisation and data, an exact resume, two gloo processes equal to one at the same global
 * batch, and the same refusal of a NaN.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initParams } from '../../core/nn/params.ts';
import { backboneParamSpecs } from '../../core/nn/trace.ts';
import { initTrainingBackend } from '../tf/backend.ts';
import type { TrainEvent } from '../trainer/events.ts';
import { TINY_NET, randomLatentData } from '../trainer/test-fixtures.ts';
import { Trainer } from '../trainer/trainer.ts';
import type { ExportWeights, TrainConfig } from '../trainer/trainer.ts';
import { parityPython } from './parity-fixtures.ts';
import { freePort, TorchTrainer } from './torch-trainer.ts';
import { TORCH_PACKAGE_DIR } from './worker.ts';

const python = parityPython();
const data = randomLatentData(12, 4, 4, 3);
const backbone = initParams(backboneParamSpecs(TINY_NET), 5);
const base: Partial<TrainConfig> = { net: TINY_NET, batchSize: 4, steps: 20, logEvery: 1, seed: 17, optimizer: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 1 } };

function lossCurve(events: TrainEvent[]): number[] {
  return events.flatMap((e) => (e.type === 'progress' ? [e.losses.total!] : []));
}

function maxRelDiff(a: ExportWeights, b: ExportWeights): number {
  let worst = 0;
  for (const part of ['backbone', 'adapter'] as const) {
    for (const [k, p] of Object.entries(a[part] ?? {})) {
      const q = b[part]![k]!.data;
      let diff = 0;
      let norm = 0;
      p.data.forEach((v, i) => {
        diff = Math.max(diff, Math.abs(v - q[i]!));
        norm = Math.max(norm, Math.abs(v));
      });
      worst = Math.max(worst, diff / Math.max(norm, 1e-6));
    }
  }
  return worst;
}

function sameBits(a: ExportWeights, b: ExportWeights): boolean {
  return (['backbone', 'adapter'] as const).every((part) =>
    Object.entries(a[part] ?? {}).every(([k, p]) => Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).equals(Buffer.from(b[part]![k]!.data.buffer, b[part]![k]!.data.byteOffset, b[part]![k]!.data.byteLength))),
  );
}

describe.skipIf(python === null)('torch engine trainer', () => {
  const opts = () => ({ python: python!, threads: 1 });

  it('follows the TF.js trainer for 20 CoDi steps from the same start (loss within 1e-3 relative per step)', async () => {
    await initTrainingBackend({ prefer: 'wasm', log: () => {} });
    const tfEvents: TrainEvent[] = [];
    const ref = Trainer.create({ ...base, method: 'codi' }, data, { backbone });
    ref.events.on((e) => tfEvents.push(e));
    await ref.run();
    const refWeights = ref.exportWeights();
    ref.dispose();

    const torchEvents: TrainEvent[] = [];
    const tr = await TorchTrainer.create({ ...base, method: 'codi' }, data, { backbone }, null, opts());
    tr.events.on((e) => torchEvents.push(e));
    expect(await tr.run()).toMatchObject({ status: 'done', step: 20 });
    const w = await tr.exportWeights();
    await tr.dispose();

    const a = lossCurve(tfEvents);
    const b = lossCurve(torchEvents);
    expect(b).toHaveLength(20);
    const rel = a.map((v, i) => Math.abs(v - b[i]!) / v);
    expect(Math.max(...rel)).toBeLessThan(1e-3);
    expect(a[19]!).toBeLessThan(a[0]!);
    expect(maxRelDiff(w, refWeights)).toBeLessThan(1e-3);
  });

  it('a killed run resumed from its checkpoint continues bit for bit (pe-codi)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'codi-torch-resume-'));
    try {
      const cfg = { ...base, method: 'pe-codi' as const, steps: 6 };
      const full = await TorchTrainer.create(cfg, data, { backbone }, null, opts());
      await full.run();
      const want = { ema: await full.exportWeights(), online: await full.onlineWeights() };
      await full.dispose();

      const first = await TorchTrainer.create({ ...cfg, checkpointEvery: 3 }, data, { backbone }, dir, opts());
      // the worker goes away right after the step-3 checkpoint, in the middle of the run
      first.events.on((e) => {
        if (e.type === 'checkpoint') void first.dispose();
      });
      await expect(first.run()).rejects.toThrow(/torch worker exited/);
      expect(await readdir(path.join(dir, 'checkpoints'))).toEqual(['step-00000003']);
      const second = await TorchTrainer.resume(dir, data, {}, opts());
      expect(second!.step).toBe(3);
      await second!.run();
      expect(sameBits(await second!.exportWeights(), want.ema)).toBe(true);
      expect(sameBits(await second!.onlineWeights(), want.online)).toBe(true);
      await second!.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a stop request ends the run between steps with a checkpoint to resume from', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'codi-torch-stop-'));
    try {
      const tr = await TorchTrainer.create({ ...base, method: 'pe-codi', steps: 6 }, data, { backbone }, dir, opts());
      const signal = { aborted: false };
      tr.events.on((e) => {
        if (e.type === 'progress' && e.step === 2) signal.aborted = true;
      });
      expect(await tr.run({ signal })).toMatchObject({ status: 'stopped', step: 2 });
      await tr.dispose();
      expect(await readdir(path.join(dir, 'checkpoints'))).toEqual(['step-00000002']);
      const again = await TorchTrainer.resume(dir, data, {}, opts());
      expect(await again!.run()).toMatchObject({ status: 'done', step: 6 });
      await again!.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('two gloo processes at global batch 4 follow one process at batch 4', async () => {
    const run = async (processes: number) => {
      const events: TrainEvent[] = [];
      const tr = await TorchTrainer.create({ ...base, method: 'codi', steps: 5 }, data, { backbone }, null, { python: python!, processes, threads: 1 });
      tr.events.on((e) => events.push(e));
      await tr.run();
      const w = await tr.exportWeights();
      await tr.dispose();
      return { curve: lossCurve(events), w };
    };
    const one = await run(1);
    const two = await run(2);
    const rel = one.curve.map((v, i) => Math.abs(v - two.curve[i]!) / v);
    expect(Math.max(...rel)).toBeLessThan(1e-5);
    expect(maxRelDiff(one.w, two.w)).toBeLessThan(1e-4);
  });

  it('ranks that connect over TCP (as torchrun starts them, on any machine) follow one process at the same global batch', async () => {
    const curve = async (opts: Parameters<typeof TorchTrainer.create>[4]) => {
      const events: TrainEvent[] = [];
      const tr = await TorchTrainer.create({ ...base, method: 'codi', steps: 5 }, data, { backbone }, null, opts);
      tr.events.on((e) => events.push(e));
      await tr.run();
      await tr.dispose();
      return lossCurve(events);
    };
    const one = await curve({ python: python!, threads: 1 });
    const [listenPort, masterPort] = [await freePort(), await freePort()];
    // The environment torchrun gives each rank (Debian's torch 1.13 torchrun itself fails on
    // Python 3.11 while parsing its --redirects default, so the test sets it directly).
    const ranks = [0, 1].map((rank) =>
      spawn(python!, ['-m', 'codi_torch.worker', '--connect', `127.0.0.1:${listenPort}`], {
        cwd: TORCH_PACKAGE_DIR,
        env: { ...process.env, PYTHONPATH: TORCH_PACKAGE_DIR, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(masterPort), OMP_NUM_THREADS: '1' },
        stdio: 'ignore',
      }),
    );
    const exited = Promise.all(ranks.map((p) => new Promise<number | null>((r) => p.once('exit', (code) => r(code)))));
    try {
      const two = await curve({ python: python!, processes: 2, listen: { host: '127.0.0.1', port: listenPort, timeoutMs: 120_000 } });
      expect(Math.max(...one.map((v, i) => Math.abs(v - two[i]!) / v))).toBeLessThan(1e-5);
      expect(await exited).toEqual([0, 0]);
    } finally {
      for (const p of ranks) p.kill();
    }
  });

  it('stops on a NaN with the TF.js trainer\'s message, applying nothing and writing no checkpoint', async () => {
    const bad = randomLatentData(4, 4, 4, 9);
    bad.items[2]!.x[5] = Number.NaN;
    const reasons: string[] = [];
    const ref = Trainer.create({ ...base, method: 'codi', steps: 3 }, bad, { backbone });
    reasons.push((await ref.run()).reason!);
    ref.dispose();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'codi-torch-nan-'));
    try {
      const tr = await TorchTrainer.create({ ...base, method: 'codi', steps: 3 }, bad, { backbone }, dir, opts());
      const before = await tr.onlineWeights();
      const events: TrainEvent[] = [];
      tr.events.on((e) => events.push(e));
      const res = await tr.run();
      expect(res).toMatchObject({ status: 'diverged', step: 0 });
      reasons.push(res.reason!);
      expect(events.map((e) => e.type)).toEqual(['diverged']);
      expect(sameBits(await tr.onlineWeights(), before)).toBe(true);
      await expect(readdir(path.join(dir, 'checkpoints'))).rejects.toThrow();
      await tr.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(reasons[1]).toBe(reasons[0]);
  });
});
