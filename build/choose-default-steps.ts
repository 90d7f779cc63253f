/**
 * After training: measure each bundled adapter's held-out PSNR at 1, 2 and 4 CoDi steps (the
 * validation split of its data set, the trainer's sampling evaluation, the same samplers the
 * engine runs), make the best count the pack's default (`sampler.steps`; the user can still pick
 * 1–4) and record the numbers in the model card. The shipped packs are short CPU runs whose
 * predictions at intermediate timesteps are still poor, so more steps measured worse; a default
 * must come from a measurement, not from the paper's setting.
 *
 *   npx tsx build/choose-default-steps.ts [native-models] [datasets] [--items 96]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { manifestSchema } from '../core/packs/manifest.ts';
import { writeFileAtomic } from '../training/export/export-onnx.ts';
import { INSTRUCTION_FEATURE_DIM, instructionFeatures } from '../core/text/instruction-features.ts';
import { loadPackForTraining } from '../training/cli/pack-export.ts';
import { readDataset } from '../training/data/dataset-reader.ts';
import { initTrainingBackend } from '../training/tf/backend.ts';
import { conditionPsnr, evaluateSampling } from '../training/trainer/sampling-eval.ts';
import { Trainer } from '../training/trainer/trainer.ts';

/** Adapter pack → its data set folder. */
const PACKS: Record<string, string> = { 'codi-restore-x4': 'restore-x4', 'codi-inpaint': 'inpaint', 'codi-edit': 'edit', 'codi-depth': 'depth' };
const STEPS = [1, 2, 4] as const;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { items: { type: 'string', default: '96' } } });
const packsDir = positionals[0] ?? 'native-models';
const dataDir = positionals[1] ?? 'datasets';
await initTrainingBackend({ prefer: 'wasm', log: () => {} });
for (const [name, data] of Object.entries(PACKS)) {
  const dir = path.join(packsDir, name);
  const pack = await loadPackForTraining(dir).catch(() => null);
  if (!pack?.weights.adapter) {
    console.log(`${name}: not trained, skipped`);
    continue;
  }
  const ds = await readDataset(path.join(dataDir, data), {
    unconditional: false,
    embedText: (text) => instructionFeatures(text, INSTRUCTION_FEATURE_DIM),
    textDim: INSTRUCTION_FEATURE_DIM,
    maxItems: { train: 1, val: Number(values.items) },
  });
  const trainer = Trainer.create({ method: 'pe-codi', net: pack.weights.net, residual: pack.manifest.residual, residualScale: pack.manifest.residualScale, batchSize: 1 }, { items: ds.train, geometry: ds.geometry }, { backbone: pack.weights.backbone, adapter: pack.weights.adapter });
  const model = trainer.denoisers().ema;
  const psnr: Record<number, number> = {};
  for (const steps of STEPS) {
    const r = await evaluateSampling(model, ds.val, ds.geometry, trainer.schedule, { kind: 'codi', steps, distillSteps: pack.manifest.sampler.distillSteps ?? 50, residual: pack.manifest.residual, residualScale: pack.manifest.residualScale });
    psnr[steps] = r.psnr;
  }
  // the image the condition carries, as the answer (restore: the bicubic upsample; edit: the unedited source)
  const floor = conditionPsnr(ds.val, ds.geometry);
  trainer.dispose();
  const best = STEPS.reduce((a, b) => ((psnr[b] as number) > (psnr[a] as number) ? b : a));
  const raw = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { sampler: object; training?: { metrics?: Record<string, number> } };
  const metrics = { ...raw.training?.metrics, ...Object.fromEntries(STEPS.map((s) => [`psnr_val_codi_${s}`, Number((psnr[s] as number).toFixed(2))])), ...(Number.isFinite(floor) ? { psnr_val_condition: Number(floor.toFixed(2)) } : {}) };
  const manifest = manifestSchema.parse({ ...raw, sampler: { ...raw.sampler, steps: best }, training: { ...raw.training, metrics } });
  await writeFileAtomic(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const cardPath = path.join(dir, manifest.modelCard);
  const [head, ...rest] = (await readFile(cardPath, 'utf8')).split('\n## Training data');
  const section = [
    '## Steps',
    '',
    `Held-out PSNR on ${ds.val.length} validation crops of the training data set (CoDi sampler, fixed seed):`,
    '',
    '| steps | 1 | 2 | 4 |',
    '|---|---|---|---|',
    `| PSNR (dB) | ${STEPS.map((s) => (psnr[s] as number).toFixed(2)).join(' | ')} |`,
    '',
    ...(Number.isFinite(floor) ? [`The condition's own image on the same crops (${pack.manifest.task === 'restore' ? 'bicubic upsample of the degraded input' : 'the unchanged input'}): ${floor.toFixed(2)} dB.`, ''] : []),
    `Default: ${best} step${best > 1 ? 's' : ''} (the best measured). This pack is a short CPU run; its predictions at`,
    'intermediate timesteps are still weak, so more steps are not better yet.',
    '',
  ].join('\n');
  const before = head!.split('\n## Steps')[0]!.trimEnd();
  await writeFileAtomic(cardPath, `${before}\n\n${section}${rest.length ? `\n## Training data${rest.join('\n## Training data')}` : ''}`);
  console.log(`${name}: PSNR ${STEPS.map((s) => `${s} step ${(psnr[s] as number).toFixed(2)}`).join(', ')} → default ${best}`);
}
