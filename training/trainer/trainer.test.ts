import { describe, it, expect } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Trainer } from './trainer.ts';
import type { ExportWeights, TrainConfig } from './trainer.ts';
import type { TrainEvent } from './events.ts';
import { TINY_NET, randomLatentData } from './test-fixtures.ts';
import { createBackbone, paramsToRecord } from '../model/network.ts';

const data = randomLatentData(12, 4, 4, 3);
const base: Partial<TrainConfig> = { net: TINY_NET, batchSize: 4, steps: 6, logEvery: 2, seed: 17, optimizer: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 1 } };

function expectSameWeights(a: ExportWeights, b: ExportWeights): void {
  for (const part of ['backbone', 'adapter'] as const) {
    const ra = a[part];
    const rb = b[part];
    expect(ra === undefined).toBe(rb === undefined);
    if (!ra || !rb) continue;
    expect(Object.keys(ra).sort()).toEqual(Object.keys(rb).sort());
    for (const k of Object.keys(ra)) expect(Buffer.from(ra[k]!.data.buffer).equals(Buffer.from(rb[k]!.data.buffer))).toBe(true);
  }
}

describe('Trainer', () => {
  it('warms the learning rate up linearly, then holds it (0 warm-up steps = constant)', () => {
    const warm = Trainer.create({ ...base, method: 'pretrain', warmupSteps: 4 }, data);
    expect([0, 1, 3, 4, 50].map((s) => warm.learningRate(s))).toEqual([2.5e-4, 5e-4, 1e-3, 1e-3, 1e-3]);
    warm.dispose();
    const flat = Trainer.create({ ...base, method: 'pretrain' }, data);
    expect(flat.config.warmupSteps).toBe(0);
    expect(flat.learningRate(0)).toBe(1e-3);
    flat.dispose();
  });

  const backbone = (() => {
    const set = createBackbone(TINY_NET, 5);
    const rec = paramsToRecord(set);
    for (const v of set.values()) v.dispose();
    return rec;
  })();

  for (const method of ['codi', 'pe-codi'] as const) {
    it(`${method}: checkpoint + resume equals an uninterrupted run bit for bit`, async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'codi-resume-'));
      try {
        const full = Trainer.create({ ...base, method }, data, { backbone });
        await full.run();
        const want = { ema: full.exportWeights(), online: full.onlineWeights() };
        full.dispose();

        const first = Trainer.create({ ...base, method }, data, { backbone }, dir);
        const r1 = await first.run({ untilStep: 3 });
        expect(r1).toMatchObject({ status: 'done', step: 3 });
        first.dispose();
        const second = await Trainer.resume(dir, data);
        expect(second).not.toBeNull();
        expect(second!.step).toBe(3);
        await second!.run();
        expectSameWeights(second!.exportWeights(), want.ema);
        expectSameWeights(second!.onlineWeights(), want.online);
        second!.dispose();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('pe-codi trains only the adapter and keeps the backbone bit-identical', async () => {
    const tr = Trainer.create({ ...base, method: 'pe-codi', steps: 2 }, data, { backbone });
    await tr.run();
    const w = tr.onlineWeights();
    for (const [k, p] of Object.entries(backbone)) expect(Buffer.from(w.backbone[k]!.data.buffer).equals(Buffer.from(p.data.buffer))).toBe(true);
    const mu = w.adapter!['mu']!.data;
    expect(Array.from(mu).some((m) => m !== 0)).toBe(true);
    expect(tr.trainableCount()).toBe(Object.values(w.adapter!).reduce((n, p) => n + p.data.length, 0));
    tr.dispose();
  });

  it('scales the text projection step by textLrScale and nothing else', async () => {
    const withText = { items: data.items.map((it, i) => ({ ...it, text: Float32Array.from([i % 2, 1 - (i % 2), 0.5, 0]) })), geometry: { ...data.geometry, textDim: 4 } };
    const moved = async (textLrScale: number): Promise<{ text: number; mu: number }> => {
      const tr = Trainer.create({ ...base, method: 'pe-codi', steps: 3, muLrScale: 40, textLrScale }, withText, { backbone });
      await tr.run();
      const w = tr.onlineWeights().adapter!;
      const sumAbs = (a: Float32Array): number => a.reduce((n, v) => n + Math.abs(v), 0);
      const r = { text: sumAbs(w['text_proj.w']!.data), mu: sumAbs(w['mu']!.data) };
      tr.dispose();
      return r;
    };
    const plain = await moved(1);
    const fast = await moved(10);
    expect(plain.text).toBeGreaterThan(0);
    expect(fast.text / plain.text).toBeGreaterThan(5);
    expect(fast.mu / plain.mu).toBeLessThan(1.5);
  });

  it('emits progress events with losses by term, samples/s and eta', async () => {
    const tr = Trainer.create({ ...base, method: 'codi', steps: 4 }, data, { backbone });
    const events: TrainEvent[] = [];
    tr.events.on((e) => events.push(e));
    await tr.run();
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.map((e) => e.step)).toEqual([2, 4]);
    for (const e of progress) {
      expect(Object.keys(e.losses).sort()).toEqual(['consistency', 'dx', 'total']);
      expect(e.samplesPerSec).toBeGreaterThan(0);
      expect(e.etaSec).toBeGreaterThanOrEqual(0);
    }
    expect(events.at(-1)!.type).toBe('done');
    tr.dispose();
  });

  it('stops on a non-finite loss without applying the update or writing a checkpoint', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'codi-nan-'));
    try {
      const bad = randomLatentData(4, 4, 4, 9);
      bad.items[2]!.x[5] = Number.NaN;
      const tr = Trainer.create({ ...base, method: 'codi', steps: 3 }, bad, { backbone }, dir);
      const before = tr.onlineWeights();
      const events: TrainEvent[] = [];
      tr.events.on((e) => events.push(e));
      const res = await tr.run();
      expect(res.status).toBe('diverged');
      expect(res.step).toBe(0);
      expect(events.map((e) => e.type)).toEqual(['diverged']);
      expectSameWeights(tr.onlineWeights(), before);
      await expect(readdir(path.join(dir, 'checkpoints'))).rejects.toThrow();
      tr.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start conditional methods without a backbone', () => {
    expect(() => Trainer.create({ ...base, method: 'codi' }, data, {})).toThrow(/pretrained backbone/);
    expect(() => Trainer.create({ ...base, method: 'cm' }, data, { backbone })).toThrow(/teacher/);
  });
});
