/**
 * CI-sized evaluation: the metrics, the ESRGAN peer and the feature network on the tiny fixture
 * image that @upscalerjs/esrgan-slim ships (no held-out download, no packs needed).
 */
import path from 'node:path';
import { describe, it, expect, beforeAll } from 'vitest';
import { readRgb } from '../../training/data/image.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { resize } from '../../training/data/resample.ts';
import { bicubicUpscale } from './convert.ts';
import { loadEsrganPeer } from './esrgan-peer.ts';
import { featureDistances, loadFeatureExtractor } from './feature-distance.ts';
import { psnr, ssim } from './metrics.ts';
import { checkTargets, renderMarkdown } from './report.ts';
import type { EvalReport, RestoreRow, RestoreTable } from './report.ts';
import { initEvalBackend, packageRoot } from './tfjs-local.ts';

const slimRoot = (): string => packageRoot('@upscalerjs/esrgan-slim', '@upscalerjs/esrgan-slim/2x');
let fixture: PlanarImage;

beforeAll(async () => {
  await initEvalBackend();
  fixture = await readRgb(path.join(slimRoot(), 'assets', 'fixture.png'));
}, 30_000);

describe('esrgan-slim peer', () => {
  it('reproduces the package’s own ×2 sample output from its fixture (offline load, same pre/post-processing)', async () => {
    const peer = await loadEsrganPeer('@upscalerjs/esrgan-slim', 2);
    try {
      const out = await peer.upscale(fixture);
      const ref = await readRgb(path.join(slimRoot(), 'assets', 'samples', '2x', 'result.png'));
      expect([out.width, out.height]).toEqual([ref.width, ref.height]);
      expect(psnr(out, ref)).toBeGreaterThan(60);
    } finally {
      peer.dispose();
    }
  }, 30_000);

  it('upscales a 32² low-res crop ×4 to the HR size, scored like the table', async () => {
    const hr = resize(fixture, 64, 64, 'area');
    const lr = resize(hr, 16, 16, 'bicubic');
    const peer = await loadEsrganPeer('@upscalerjs/esrgan-slim', 4);
    try {
      const out = await peer.upscale(lr);
      expect([out.width, out.height]).toEqual([64, 64]);
      const p = psnr(out, hr, { border: 4 });
      const b = psnr(bicubicUpscale(lr, 4), hr, { border: 4 });
      expect(p).toBeGreaterThan(12);
      expect(Number.isFinite(p)).toBe(true);
      // a real upscaler and bicubic land within a few dB of each other on the same input
      expect(Math.abs(p - b)).toBeLessThan(6);
      expect(ssim(out, hr, { border: 4 })).toBeGreaterThan(0.2);
    } finally {
      peer.dispose();
    }
  }, 30_000);
});

describe('feature distance (InceptionV3 from nsfwjs)', () => {
  it('puts a lightly blurred copy nearer the original than a flat grey image', async () => {
    const fe = await loadFeatureExtractor('inception');
    try {
      expect(fe.dim).toBe(2048);
      expect(fe.distanceName).toBe('Inception-nsfwjs Fréchet distance');
      const blurred = resize(resize(fixture, 64, 64, 'area'), 128, 128, 'bicubic');
      const grey: PlanarImage = { ...fixture, data: new Float32Array(fixture.data.length).fill(0.5) };
      const [f0, f1, f2] = await fe.extract([fixture, blurred, grey]);
      const near = featureDistances([f1 as Float32Array], [f0 as Float32Array]).pairedL2;
      const far = featureDistances([f2 as Float32Array], [f0 as Float32Array]).pairedL2;
      expect(near).toBeGreaterThan(0);
      expect(near).toBeLessThan(far);
    } finally {
      fe.dispose();
    }
  }, 40_000);
});

describe('report', () => {
  const measured = (label: string, p: number): RestoreRow => ({ label, kind: 'model', images: 3, psnr: p, psnrY: p, ssim: 0.8, frechet: null, featureL2: null, msPerImage: 10, msPerMegapixel: 100 });

  it('checks the issue targets from measured rows and says when a row is missing', () => {
    const t: RestoreTable = {
      scale: 4,
      size: '64² → 256²',
      rows: [measured('bicubic', 22), measured('esrgan-slim ×4', 22.5), measured('CoDi 4', 23.6), measured('teacher DDIM 4', 23.0), measured('teacher DDIM 50', 24.2)],
    };
    const checks = checkTargets([t]);
    const get = (s: string): boolean | null | undefined => checks.find((c) => c.target.includes(s))?.met;
    expect(get('beats bicubic')).toBe(true);
    expect(get('beats esrgan-slim')).toBe(true);
    expect(get('teacher DDIM 4')).toBe(true);
    expect(get('CM 4')).toBe(null);
    expect(get('within 0.5 dB')).toBe(false);
    const worse = checkTargets([{ ...t, rows: t.rows.map((r) => (r.label === 'CoDi 4' ? measured('CoDi 4', 23.0) : r)) }]);
    expect(worse.find((c) => c.target.includes('beats bicubic'))?.met).toBe(false);
    // the feature-distance comparison is its own row, judged on lower = better, n/a without features
    const fd = (rows: RestoreRow[]) => checkTargets([{ ...t, rows }]).find((c) => c.target.includes('DDIM 4 (feature'));
    expect(fd(t.rows)?.met).toBe(null);
    const withF = (label: string, frechet: number): RestoreRow => ({ ...measured(label, 20), frechet });
    expect(fd([withF('CoDi 4', 4.2), withF('teacher DDIM 4', 4.6)])?.met).toBe(true);
    expect(fd([withF('CoDi 4', 4.9), withF('teacher DDIM 4', 4.6)])?.met).toBe(false);
  });

  it('judges the quality targets on the shipped pack default when the table names it', () => {
    const t: RestoreTable = { scale: 4, size: '64² → 256²', shippedSteps: 1, rows: [measured('bicubic', 22), measured('esrgan-slim ×4', 22.5), measured('PE-CoDi 1', 23.8), measured('PE-CoDi 4', 20.0)] };
    const bic = checkTargets([t]).find((c) => c.target.includes('beats bicubic'));
    expect(bic?.met).toBe(true);
    expect(bic?.target).toContain('PE-CoDi 1, the pack default');
    // the 4-step comparisons stay on the 4-step row
    expect(checkTargets([t]).find((c) => c.target.includes('DDIM 4'))?.target).toContain('PE-CoDi 4');
    expect(checkTargets([{ ...t, shippedSteps: 4 }]).find((c) => c.target.includes('beats bicubic'))?.met).toBe(false);
  });

  it('renders skipped rows with their reason', () => {
    const report: EvalReport = {
      date: '2026-01-01',
      quick: true,
      environment: { cpu: 'x', cores: 2, node: 'v20', tfjsBackend: 'wasm', onnxruntime: '1.30.0', threads: 2 },
      heldout: { degradation: 'realworld', photos: 1, crops: 1, cropSize: 256, packages: [], note: 'n' },
      featureNetwork: 'none',
      featureDistanceName: 'feature distance',
      restore: [{ scale: 4, size: '64² → 256²', rows: [measured('bicubic', 21.5), { ...measured('CM 4', 0), psnr: null, skipped: 'no restore ×4 pack with method "cm" installed' }] }],
      targets: [],
      edits: { skipped: 'no edit pack installed', rows: [], unchecked: [] },
      notes: [],
      wallSeconds: 1,
    };
    const md = renderMarkdown(report);
    expect(md).toContain('| bicubic |');
    expect(md).toContain('21.50');
    expect(md).toContain('skipped: no restore ×4 pack with method "cm" installed');
  });
});
