/**
 * Bench section 4, peers on the same inputs: the @upscalerjs ESRGAN-named models (TF.js in Node, as those
 * packages run) against our restore pack at its default steps: ms per output megapixel, PSNR
 * (Y, border = scale) and SSIM against the ground truth.
 */
import type { PlanarImage } from '../../../training/data/image.ts';
import { ESRGAN_PACKAGES, isInstalled, loadEsrganPeer } from '../../eval/esrgan-peer.ts';
import { psnr, ssim } from '../../eval/metrics.ts';
import { restoreWithPack } from '../../eval/pack-rows.ts';
import { initEvalBackend } from '../../eval/tfjs-local.ts';
import { loadRestorePack } from '../bench-packs.ts';
import type { Section } from '../section.ts';
import { round, timeIt } from '../stats.ts';
import { restoreInputs } from './heldout-inputs.ts';

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export const peers: Section = async (ctx) => {
  const ours = await loadRestorePack(ctx.packs);
  const scale = ours.model.manifest.upscale;
  const hrSide = ctx.quick ? 128 : 256;
  const inputs = await restoreInputs(scale, ctx.quick ? 1 : 4, hrSide);
  const backend = await initEvalBackend();
  const rows: Record<string, string | number>[] = [];
  const notes: string[] = [`Inputs: ${inputs.source}.`, `TF.js backend for the peers: ${backend}.`];
  const measure = async (label: string, runtime: string, fn: (lr: PlanarImage) => Promise<PlanarImage>): Promise<number> => {
    const outs: PlanarImage[] = [];
    for (const p of inputs.pairs) outs.push(await fn(p.lr));
    const t = await timeIt(() => fn(inputs.pairs[0]!.lr), { runs: ctx.runs });
    const mp = (hrSide * hrSide) / 1e6;
    rows.push({
      model: label,
      runtime,
      medianMs: round(t.medianMs, 1),
      p90Ms: round(t.p90Ms, 1),
      msPerMegapixel: round(t.medianMs / mp, 0),
      psnrY: round(mean(inputs.pairs.map((p, i) => psnr(outs[i]!, p.hr, { border: scale, channel: 'y' })))),
      ssim: round(mean(inputs.pairs.map((p, i) => ssim(outs[i]!, p.hr, { border: scale }))), 4),
    });
    return t.medianMs;
  };
  const steps = ours.model.manifest.sampler.steps;
  const oursMs = await measure(`${ours.record.name} (${steps} steps)`, `onnxruntime ${ctx.threads} threads`, (lr) => restoreWithPack(ours.model, lr, 'pack', steps, ctx.seed));
  const peerMs: number[] = [];
  for (const pkg of ESRGAN_PACKAGES) {
    if (!isInstalled(pkg)) {
      notes.push(`${pkg} not installed`);
      continue;
    }
    const peer = await loadEsrganPeer(pkg, scale);
    try {
      peerMs.push(await measure(`${peer.label} ${peer.version}`, 'TF.js', (lr) => peer.upscale(lr)));
      notes.push(`${peer.label}: ${peer.about}`);
    } finally {
      peer.dispose();
    }
  }
  return {
    title: '4. Peers on the same inputs (restoration)',
    goal: null,
    rows,
    notes: [...notes, peerMs.length ? `Our pack takes ${(oursMs / Math.min(...peerMs)).toFixed(2)}× the time of the fastest peer.` : ''].filter(Boolean),
  };
};
