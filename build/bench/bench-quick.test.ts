import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { reportedPacksDir, runBench } from './run.ts';
import type { BenchReport } from './report.ts';
import { netFromModelCard } from './bench-packs.ts';
import { parseStepTable } from './sections/training.ts';

describe('npm run bench -- --quick (CI smoke)', () => {
  it('runs the ceiling section on the tiny test packs and writes the JSON and Markdown', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'codi-bench-test-'));
    try {
      const { json, md } = await runBench({ quick: true, testPacks: true, only: ['ceiling'], outDir: out, threads: 1, log: () => {} });
      const report = JSON.parse(await readFile(json, 'utf8')) as BenchReport;
      expect(report.schema).toBe(1);
      expect(report.quick).toBe(true);
      expect(report.packs.testPacks).toBe(true);
      // the committed report never names this machine's folders
      expect(report.packs.dir).toBe('temporary test packs');
      expect(report.machine.logicalCores).toBeGreaterThan(0);
      expect(report.machine.onnxruntime).toMatch(/^\d+\.\d+/);
      expect(report.sections).toHaveLength(1);
      const s = report.sections[0]!;
      if ('error' in s) throw new Error(s.error);
      expect(s.id).toBe('ceiling');
      expect(s.goal?.met).toBeTypeOf('boolean');
      expect(s.rows.length).toBe(2); // 1 thread conv + the network (threads 1 = one conv row)
      for (const r of s.rows) expect(r.gflops as number).toBeGreaterThan(0);
      expect(await readFile(md, 'utf8')).toContain('## 1. Hardware ceiling');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('bench helpers', () => {
  it('reads the network preset from a trainer model card', () => {
    const net = netFromModelCard('- Network: base 48 channels, levels ×[1, 2, 2], 1 res block(s)/level');
    expect(net?.baseChannels).toBe(48);
    expect(net?.channelMult).toEqual([1, 2, 2]);
    expect(netFromModelCard('- Network: base 40 channels, levels ×[1, 2], 1 res block(s)/level')).toBeNull();
  });

  it('parses the step bench table', () => {
    const rows = parseStepTable('| backend | timed steps | ms/step | samples/s | GFLOP/s |\n|---|---|---|---|---|\n| wasm + project kernels | 5 | 812 | 19.7 | 1.23 |\n| cpu (stock) | 1 | 90000 | 0.18 | 0.011 |');
    expect(rows).toEqual([
      { backend: 'wasm + project kernels', timedSteps: 5, msPerStep: 812, samplesPerSec: 19.7, gflops: 1.23 },
      { backend: 'cpu (stock)', timedSteps: 1, msPerStep: 90000, samplesPerSec: 0.18, gflops: 0.011 },
    ]);
  });
});

describe('the packs folder a committed report names', () => {
  it('is relative to the repository for bundled packs and never an absolute path', () => {
    expect(reportedPacksDir('/somewhere/repo/native-models', '/somewhere/repo')).toBe('native-models');
    expect(reportedPacksDir('/tmp/codi-bench-x/test-packs', '/somewhere/repo')).toBe('temporary test packs');
  });
});
