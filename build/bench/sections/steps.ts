/**
 * Bench section 2, steps against quality and time (restoration, 256² output): the CoDi pack at 1/2/4 steps
 * against the multi-step reference (a teacher pack when installed, else the same network with
 * DDIM 50, as the issue allows) with DDIM 50 and DPM-Solver++ 4/8/20. Quality: PSNR/SSIM (Y,
 * border = scale) against the ground truth, and teacher agreement (PSNR against the DDIM-50
 * output, same seed). Time: end to end per image (condition, sampling, decode).
 */
import type { SamplerKind } from '../../../core/samplers/index.ts';
import type { PackModel } from '../../../electron/engine/packs/registry.ts';
import type { PlanarImage } from '../../../training/data/image.ts';
import { bicubicUpscale } from '../../eval/convert.ts';
import { psnr, ssim } from '../../eval/metrics.ts';
import { restoreWithPack } from '../../eval/pack-rows.ts';
import { loadRestorePack, loadTaskPack } from '../bench-packs.ts';
import type { Section } from '../section.ts';
import { round, timeIt } from '../stats.ts';
import type { Timing } from '../stats.ts';
import { restoreInputs } from './heldout-inputs.ts';

interface Row {
  label: string;
  model: PackModel;
  sampler: SamplerKind | 'pack';
  steps: number;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export const steps: Section = async (ctx) => {
  const codi = await loadRestorePack(ctx.packs);
  const teacher = await loadTaskPack(ctx.packs, 'restore', 'teacher');
  const ref = typeof teacher === 'string' ? codi : teacher;
  const refName = typeof teacher === 'string' ? `${codi.record.name} (own network; no teacher pack installed)` : teacher.record.name;
  const scale = codi.model.manifest.upscale;
  const hrSide = ctx.quick ? 128 : 256;
  const inputs = await restoreInputs(scale, ctx.quick ? 1 : 4, hrSide);
  const plan: Row[] = [
    { label: `${ref.record.name} DDIM 50`, model: ref.model, sampler: 'ddim', steps: ctx.quick ? 20 : 50 },
    { label: `${ref.record.name} DPM-Solver++ 20`, model: ref.model, sampler: 'dpmpp-2m', steps: 20 },
    { label: `${ref.record.name} DPM-Solver++ 8`, model: ref.model, sampler: 'dpmpp-2m', steps: 8 },
    { label: `${ref.record.name} DPM-Solver++ 4`, model: ref.model, sampler: 'dpmpp-2m', steps: 4 },
    { label: `${codi.record.name} 4 steps`, model: codi.model, sampler: 'pack', steps: 4 },
    { label: `${codi.record.name} 2 steps`, model: codi.model, sampler: 'pack', steps: 2 },
    { label: `${codi.record.name} 1 step`, model: codi.model, sampler: 'pack', steps: 1 },
  ];
  // Other distilled restore packs of the same scale (full CoDi, CM), when installed, at 4 steps.
  for (const method of ['codi', 'cm'] as const) {
    const other = ctx.packs.records.find((r) => r.status === 'ok' && r.manifest?.task === 'restore' && r.manifest.method === method && r.name !== codi.record.name && r.manifest.upscale === scale);
    if (other) plan.push({ label: `${other.name} (${method}) 4 steps`, model: await ctx.packs.registry.load(other.name), sampler: 'pack', steps: 4 });
  }
  if (ctx.quick) plan[0]!.label = `${ref.record.name} DDIM 20 (--quick)`;
  const border = scale;
  const rows: Record<string, string | number>[] = [];
  const bic = inputs.pairs.map((p) => bicubicUpscale(p.lr, scale));
  rows.push({
    method: 'bicubic',
    evals: 0,
    medianMs: '',
    p90Ms: '',
    speedupVsDdim50: '',
    psnrY: round(mean(inputs.pairs.map((p, i) => psnr(bic[i]!, p.hr, { border, channel: 'y' })))),
    ssim: round(mean(inputs.pairs.map((p, i) => ssim(bic[i]!, p.hr, { border }))), 4),
    agreementPsnr: '',
  });
  let refOut: PlanarImage[] = [];
  let refTiming: Timing | null = null;
  const results: { label: string; timing: Timing; psnr: number }[] = [];
  for (const row of plan) {
    const outs: PlanarImage[] = [];
    for (const p of inputs.pairs) outs.push(await restoreWithPack(row.model, p.lr, row.sampler, row.steps, ctx.seed));
    const first = inputs.pairs[0]!;
    const timing = await timeIt(() => restoreWithPack(row.model, first.lr, row.sampler, row.steps, ctx.seed), { runs: ctx.runs });
    if (row === plan[0]) {
      refOut = outs;
      refTiming = timing;
    }
    const p = mean(inputs.pairs.map((pair, i) => psnr(outs[i]!, pair.hr, { border, channel: 'y' })));
    results.push({ label: row.label, timing, psnr: p });
    rows.push({
      method: row.label,
      evals: row.steps,
      medianMs: round(timing.medianMs, 1),
      p90Ms: round(timing.p90Ms, 1),
      speedupVsDdim50: refTiming ? `${(refTiming.medianMs / timing.medianMs).toFixed(1)}×` : '',
      psnrY: round(p),
      ssim: round(mean(inputs.pairs.map((pair, i) => ssim(outs[i]!, pair.hr, { border }))), 4),
      agreementPsnr: row === plan[0] ? '—' : round(mean(outs.map((o, i) => psnr(o, refOut[i]!, { border, channel: 'y' })))),
    });
  }
  const ddim = results[0]!;
  const c4 = results.find((r) => r.label === `${codi.record.name} 4 steps`)!;
  const speed = ddim.timing.medianMs / c4.timing.medianMs;
  const met = speed >= 10 && c4.psnr >= ddim.psnr;
  return {
    title: '2. Steps against quality and time (restoration)',
    goal: {
      text: 'CoDi 4 steps ≥ 10× faster than DDIM 50 end to end at equal or better PSNR',
      met: ctx.quick ? null : met,
      measured: `${speed.toFixed(1)}× faster, PSNR ${c4.psnr.toFixed(2)} vs ${ddim.psnr.toFixed(2)} dB (${(c4.psnr - ddim.psnr >= 0 ? '+' : '') + (c4.psnr - ddim.psnr).toFixed(2)} dB)${ctx.quick ? '; --quick uses DDIM 20, not the goal' : ''}`,
    },
    rows,
    notes: [
      `Inputs: ${inputs.source}; ${inputs.pairs.length} crop(s), ×${scale}, output ${hrSide}².`,
      `Multi-step reference: ${refName}.`,
      'PSNR on Y (BT.601) with a border of the scale, SSIM on luma; agreement = PSNR against the reference DDIM output for the same seed.',
      `Timing: whole restore of crop 1 (condition + sampler + decode), ${ctx.runs} runs after 2 warm-ups, ${ctx.threads} threads.`,
    ],
  };
};
