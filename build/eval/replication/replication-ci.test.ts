/**
 * The replication at CI size (issue 21): teacher, CoDi and CM trained by the PyTorch engine on a
 * synthetic clean ×4 set (rendered shapes and gradients, inputs = sharp's cubic ×4 downscale; 1
 * thread, 32 px crops, 40 steps each), sampled on 4 synthetic images from a seed the training set
 * never used, at 32 px, one seed. Synthetic data keeps it self-sufficient: a fresh clone in CI has
 * neither the training photo packages nor the held-out ones. It asserts only the orderings that
 * held with a margin in every trial seed run beforehand at this size (seeds 0 and 1; the test runs
 * seed 7); the paper's claims need the larger scales (bench/results/replication-2026-12-06.md).
 * Needs torch; skipped without it.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTorchPython } from '../../../training/engine-torch/python.ts';
import type { ReplicationReport } from './report.ts';
import { perSeed } from './report.ts';
import { resolveReplicationOptions, runReplication } from './main.ts';

const ready = findTorchPython().ok;
/** A seed not among those the orderings were chosen on. */
const SEED = 7;

describe.skipIf(!ready)('CoDi replication at CI size', () => {
  it('orderings that held in every trial seed: fewer steps score higher, and nothing reaches bicubic', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-replication-ci-'));
    try {
      const o = resolveReplicationOptions({ scale: 'ci', seeds: 1, firstSeed: SEED, runsDir: tmp, dataRoot: tmp, resultsDir: tmp, date: 'ci', log: () => {} });
      const { jsonPath } = await runReplication(o);
      const r = JSON.parse(readFileSync(jsonPath!, 'utf8')) as ReplicationReport;
      const at = (row: Parameters<typeof perSeed>[1], sampler: string) => perSeed(r.seeds, row, sampler, 'psnr')[0]!;
      // a one-step prediction approximates the posterior mean; a 4-step sample pays for its detail in PSNR
      expect(at('codi', '1 det') - at('codi', '4 det')).toBeGreaterThan(MARGIN_DB);
      expect(at('cm', '1 det') - at('cm', '4 det')).toBeGreaterThan(MARGIN_DB);
      expect(at('teacher', 'DDIM 4') - at('teacher', 'DDIM 50')).toBeGreaterThan(0.3);
      // 40 steps teach none of the rows to beat plain bicubic (trial seeds: 10.7–13.0 dB below it)
      const bicubic = r.bicubic.psnr.reduce((a, b) => a + b, 0) / r.bicubic.psnr.length;
      const best = Math.max(at('teacher', 'DDIM 4'), at('teacher', 'DDIM 50'), at('codi', '1 det'), at('codi', '4 det'), at('cm', '1 det'), at('cm', '4 det'));
      expect(bicubic - best).toBeGreaterThan(3);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 1_200_000);
});

/**
 * Margin of the step-count orderings: over trial seeds 0 and 1 the smallest gap was 3.1 dB
 * (CoDi 1 vs 4 steps) and 4.0 dB (CM), DDIM-4 over DDIM-50 1.2 dB.
 */
const MARGIN_DB = 1;
