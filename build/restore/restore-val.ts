/**
 * Restore ×4 choices on a training data set's VALIDATION split only (never the held-out photos):
 * PSNR (border = scale) and GMSD of bicubic, Lanczos + unsharp mask at each --usm sigma, and each
 * candidate pack at each sampler/step setting over --seeds seeds. Used to pick the checkpoint, the
 * sampler and steps, the unsharp-mask sigma of the classic row, and one mixed pack vs two packs.
 *
 * `--temperatures` and `--scales` measure each pack again with its manifest's start temperature
 * (core/samplers/start.ts) and residual scale replaced, in memory: the settings a pack can ship.
 *
 *   npx tsx build/restore/restore-val.ts --data datasets/restore-x4-clean --packs DIR[,DIR…]
 *        [--samplers codi:1,codi-renoise:2] [--seeds 3] [--limit 300] [--usm SIGMA:AMOUNT,…] [--alphas 0.25,0.5]
 *        [--temperatures 1,0] [--scales 10,3] [--sharpens none,3:0.5] [--json OUT]
 *
 * `--sharpens` finishes each model output with these unsharp masks (σ:amount; `none`) instead of
 * the pack's own (core/image/unsharp.ts), one row each: the model runs once for all of them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SamplerKind } from '../../core/samplers/index.ts';
import { parseItems } from '../../training/data/dataset-reader.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { readRgb } from '../../training/data/image.ts';
import { bicubicUpscale } from '../eval/convert.ts';
import { gmsd, psnr } from '../eval/metrics.ts';
import type { Sharpen } from '../../core/image/unsharp.ts';
import type { F32Tensor } from '../../core/tensor/ops.ts';
import { finishRestore, restoreModelSpace, restoreWithPack } from '../eval/pack-rows.ts';
import { lanczosUnsharp, openStagedPack } from '../eval/restore-x4-rows.ts';

export interface ValRow {
  label: string;
  psnr: number;
  gmsd: number;
  /** PSNR − bicubic's on the same crops */
  gain: number;
  /** per-seed mean PSNR (model rows) */
  seeds?: number[];
}

interface ValPair {
  hr: PlanarImage;
  lr: PlanarImage;
  scale: number;
}

async function score(pairs: readonly ValPair[], up: (p: ValPair, i: number) => Promise<PlanarImage>): Promise<{ psnr: number; gmsd: number }> {
  let p = 0;
  let g = 0;
  for (const [i, pair] of pairs.entries()) {
    const out = await up(pair, i);
    p += psnr(out, pair.hr, { border: pair.scale });
    g += gmsd(out, pair.hr);
  }
  return { psnr: p / pairs.length, gmsd: g / pairs.length };
}

/** Row-label suffix of a sharpening setting (build/restore/choose-restore-start.ts looks rows up by it). */
export function sharpenLabel(s: Sharpen | null): string {
  return s ? ` sharpen σ ${s.sigma} × ${s.amount}` : ' sharpen none';
}

/** Like score, for one model output per pair finished several ways (finishRestore: sharpening, then the clamp). */
async function scoreFinishes(pairs: readonly ValPair[], raw: (p: ValPair, i: number) => Promise<F32Tensor>, finishes: readonly (Sharpen | null)[]): Promise<{ psnr: number; gmsd: number }[]> {
  const sums = finishes.map(() => ({ psnr: 0, gmsd: 0 }));
  for (const [i, pair] of pairs.entries()) {
    const out = await raw(pair, i);
    for (const [f, sharpen] of finishes.entries()) {
      const img = finishRestore(out, sharpen ?? undefined);
      const sum = sums[f] as { psnr: number; gmsd: number };
      sum.psnr += psnr(img, pair.hr, { border: pair.scale });
      sum.gmsd += gmsd(img, pair.hr);
    }
  }
  return sums.map((x) => ({ psnr: x.psnr / pairs.length, gmsd: x.gmsd / pairs.length }));
}

export async function restoreVal(opts: { data: string; packs: string[]; samplers: { kind: SamplerKind; steps: number }[]; seeds: number; limit: number; usm: [number, number][]; alphas: number[]; temperatures?: number[]; scales?: number[]; sharpens?: (Sharpen | null)[]; log?: (s: string) => void }): Promise<ValRow[]> {
  const log = opts.log ?? (() => {});
  const items = parseItems(readFileSync(path.join(opts.data, 'items.jsonl'), 'utf8')).filter((it) => it.split === 'val').slice(0, opts.limit);
  const pairs: ValPair[] = [];
  for (const it of items) {
    if (!it.input || !it.scale) throw new Error(`${opts.data}: val item ${it.target} has no input or scale`);
    pairs.push({ hr: await readRgb(path.join(opts.data, it.target)), lr: await readRgb(path.join(opts.data, it.input)), scale: it.scale });
  }
  log(`${opts.data}: ${pairs.length} val crops`);
  const rows: ValRow[] = [];
  const bic = await score(pairs, async (p) => bicubicUpscale(p.lr, p.scale));
  rows.push({ label: 'bicubic', ...bic, gain: 0 });
  for (const [sigma, amount] of opts.usm) {
    const r = await score(pairs, async (p) => lanczosUnsharp(p.lr, p.scale, sigma, amount));
    rows.push({ label: amount > 0 ? `lanczos3 + unsharp σ=${sigma} amount=${amount}` : 'lanczos3', ...r, gain: r.psnr - bic.psnr });
  }
  for (const dir of opts.packs) {
    const staged = await openStagedPack(dir);
    const own = staged.model.manifest;
    try {
      for (const tau of opts.temperatures ?? [null]) for (const k of opts.scales ?? [null]) for (const s of opts.samplers) {
        const model = { ...staged.model, manifest: { ...own, sampler: tau === null ? own.sampler : { ...own.sampler, temperature: tau }, residualScale: k ?? own.residualScale } };
        const setting = `${tau === null ? '' : ` τ ${tau}`}${k === null ? '' : ` k ${k}`}`;
        // each model output once, finished with every sharpening asked for (the pack's own when none is)
        const finishes = opts.sharpens ?? [own.sharpen ?? null];
        const per = finishes.map((): { psnr: number; gmsd: number }[] => []);
        for (let seed = 0; seed < opts.seeds; seed++) {
          const scores = await scoreFinishes(pairs, (p, i) => restoreModelSpace(model, p.lr, s.kind, s.steps, 1000 * seed + i), finishes);
          scores.forEach((x, f) => per[f]?.push(x));
        }
        let row: ValRow | undefined;
        for (const [f, sharpen] of finishes.entries()) {
          const one = per[f] ?? [];
          const m = (g: (x: { psnr: number; gmsd: number }) => number): number => one.reduce((a, x) => a + g(x), 0) / one.length;
          const r = { label: `${path.basename(dir)}${setting} ${s.kind} ${s.steps}${opts.sharpens ? sharpenLabel(sharpen) : ''}`, psnr: m((x) => x.psnr), gmsd: m((x) => x.gmsd), gain: m((x) => x.psnr) - bic.psnr, seeds: one.map((x) => x.psnr) };
          rows.push(r);
          row ??= r;
          log(`${r.label}: ${r.psnr.toFixed(3)} dB (${r.gain >= 0 ? '+' : ''}${r.gain.toFixed(3)}), GMSD ${r.gmsd.toFixed(4)}`);
        }
        if (!row) throw new Error('no finish to score');
        for (const alpha of opts.alphas) {
          // the predicted residual over bicubic scaled by alpha (= a manifest residualScale of k/alpha)
          const shrunk: { psnr: number; gmsd: number }[] = [];
          for (let seed = 0; seed < opts.seeds; seed++) {
            shrunk.push(
              await score(pairs, async (p, i) => {
                const out = await restoreWithPack(model, p.lr, s.kind, s.steps, 1000 * seed + i);
                const b = bicubicUpscale(p.lr, p.scale);
                for (let j = 0; j < out.data.length; j++) out.data[j] = Math.min(1, Math.max(0, (b.data[j] as number) + alpha * ((out.data[j] as number) - (b.data[j] as number))));
                return out;
              }),
            );
          }
          const ms = (f: (x: { psnr: number; gmsd: number }) => number): number => shrunk.reduce((a, x) => a + f(x), 0) / shrunk.length;
          const r2 = { label: `${row.label} × residual ${alpha}`, psnr: ms((x) => x.psnr), gmsd: ms((x) => x.gmsd), gain: ms((x) => x.psnr) - bic.psnr, seeds: shrunk.map((x) => x.psnr) };
          rows.push(r2);
          log(`${r2.label}: ${r2.psnr.toFixed(3)} dB (${r2.gain >= 0 ? '+' : ''}${r2.gain.toFixed(3)}), GMSD ${r2.gmsd.toFixed(4)}`);
        }
      }
    } finally {
      await staged.close();
    }
  }
  return rows;
}

if (process.argv[1]?.endsWith('restore-val.ts')) {
  const { values: v } = parseArgs({
    options: {
      data: { type: 'string' },
      packs: { type: 'string', default: '' },
      samplers: { type: 'string', default: 'codi:1' },
      seeds: { type: 'string', default: '3' },
      limit: { type: 'string', default: '300' },
      usm: { type: 'string', default: '' },
      alphas: { type: 'string', default: '' },
      temperatures: { type: 'string' },
      scales: { type: 'string' },
      sharpens: { type: 'string' },
      json: { type: 'string' },
    },
  });
  if (!v.data) throw new Error('--data DIR is required');
  const samplers = v.samplers.split(',').map((s) => {
    const [kind, steps] = s.split(':');
    return { kind: kind as SamplerKind, steps: Number(steps ?? 1) };
  });
  const rows = await restoreVal({
    data: v.data,
    packs: v.packs ? v.packs.split(',') : [],
    samplers,
    seeds: Number(v.seeds),
    limit: Number(v.limit),
    alphas: v.alphas ? v.alphas.split(',').map(Number) : [],
    ...(v.temperatures ? { temperatures: v.temperatures.split(',').map(Number) } : {}),
    ...(v.scales ? { scales: v.scales.split(',').map(Number) } : {}),
    ...(v.sharpens ? { sharpens: v.sharpens.split(',').map((x) => parseSharpen(x)) } : {}),
    usm: v.usm ? v.usm.split(',').map((s) => s.split(':').map(Number) as [number, number]) : [],
    log: (s) => console.error(s),
  });
  for (const r of rows) console.log(`| ${r.label} | ${r.psnr.toFixed(3)} | ${r.gain >= 0 ? '+' : ''}${r.gain.toFixed(3)} | ${r.gmsd.toFixed(4)} |${r.seeds ? ` ${r.seeds.map((x) => x.toFixed(3)).join(' / ')} |` : ''}`);
  if (v.json) writeFileSync(v.json, `${JSON.stringify({ data: v.data, rows }, null, 2)}\n`);
}

/** `none` or `σ:amount`. */
export function parseSharpen(x: string): Sharpen | null {
  if (x === 'none') return null;
  const [sigma, amount] = x.split(':').map(Number);
  if (!(sigma !== undefined && sigma > 0 && amount !== undefined && amount >= 0)) throw new Error(`a sharpening is "none" or σ:amount, got "${x}"`);
  return { sigma, amount };
}
