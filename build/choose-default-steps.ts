/**
 * After training: measure each bundled adapter's held-out PSNR at 1, 2 and 4 CoDi steps with both
 * CoDi samplers, deterministic and re-noising (the validation split of its data set, the trainer's
 * sampling evaluation, the same samplers the engine runs), make the better kind and its best count
 * the pack's default (`sampler.kind`, `sampler.steps`; the user can still pick 1–4; rule in
 * training/trainer/sampler-choice.ts) and record the numbers in the model card. The distilled
 * restoration baselines of the evaluation (full CoDi, CM) get their kind chosen the same way, so
 * every method in the table runs with the sampler that measured best for it on validation crops;
 * their step count stays 4, the table's. The shipped packs are short CPU runs whose predictions at
 * intermediate timesteps are still poor, so more steps measured worse; a default must come from a
 * measurement, not from the paper's setting.
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
import { chooseSampler } from '../training/trainer/sampler-choice.ts';

/** Pack folder (under the packs folder) → its data set folder, and whether its default step count is chosen. */
const PACKS: ReadonlyArray<{ name: string; data: string; chooseSteps: boolean }> = [
  { name: 'codi-restore-x4', data: 'restore-x4-clean', chooseSteps: true },
  { name: 'codi-restore-x4-degraded', data: 'restore-x4', chooseSteps: true },
  { name: 'codi-inpaint', data: 'inpaint', chooseSteps: true },
  { name: 'codi-edit', data: 'edit', chooseSteps: true },
  { name: 'codi-depth', data: 'depth', chooseSteps: true },
  { name: '.baselines/codi-restore-x4-full', data: 'restore-x4', chooseSteps: false },
  { name: '.baselines/codi-restore-x4-cm', data: 'restore-x4', chooseSteps: false },
];
const STEPS = [1, 2, 4] as const;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { items: { type: 'string', default: '96' } } });
const packsDir = positionals[0] ?? 'native-models';
const dataDir = positionals[1] ?? 'datasets';
await initTrainingBackend({ prefer: 'wasm', log: () => {} });
for (const { name, data, chooseSteps } of PACKS) {
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
    holeFill: pack.manifest.holeFill ?? 'zero',
    maxItems: { train: 1, val: Number(values.items) },
  });
  // 'pe-codi' for every pack, baselines included: the forward pass (backbone + adapter) is the same for every distilled method
  const trainer = Trainer.create({ method: 'pe-codi', net: pack.weights.net, residual: pack.manifest.residual, residualScale: pack.manifest.residualScale, batchSize: 1 }, { items: ds.train, geometry: ds.geometry }, { backbone: pack.weights.backbone, adapter: pack.weights.adapter });
  const model = trainer.denoisers().ema;
  const measure = async (kind: 'codi' | 'codi-renoise', steps: number): Promise<number> =>
    (await evaluateSampling(model, ds.val, ds.geometry, trainer.schedule, { kind, steps, distillSteps: pack.manifest.sampler.distillSteps ?? 50, residual: pack.manifest.residual, residualScale: pack.manifest.residualScale })).psnr;
  const measured = {
    codi: { 1: await measure('codi', 1), 2: await measure('codi', 2), 4: await measure('codi', 4) },
    renoise: { 2: await measure('codi-renoise', 2), 4: await measure('codi-renoise', 4) },
  };
  const choice = chooseSampler(measured);
  const psnr = choice.psnr;
  // the image the condition carries, as the answer (restore: the bicubic upsample; edit: the unedited source)
  const floor = conditionPsnr(ds.val, ds.geometry);
  trainer.dispose();
  const raw = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { sampler: { steps: number }; training?: { metrics?: Record<string, number> } };
  const best = chooseSteps ? choice.steps : raw.sampler.steps;
  const dB = (v: number): number => Number(v.toFixed(2));
  const metrics = {
    ...raw.training?.metrics,
    ...Object.fromEntries(STEPS.map((s) => [`psnr_val_codi_${s}`, dB(measured.codi[s])])),
    psnr_val_renoise_2: dB(measured.renoise[2]),
    psnr_val_renoise_4: dB(measured.renoise[4]),
    ...(Number.isFinite(floor) ? { psnr_val_condition: dB(floor) } : {}),
  };
  const manifest = manifestSchema.parse({ ...raw, sampler: { ...raw.sampler, kind: choice.kind, steps: best }, training: { ...raw.training, metrics } });
  await writeFileAtomic(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const cardPath = path.join(dir, manifest.modelCard);
  const [head, ...rest] = (await readFile(cardPath, 'utf8')).split('\n## Training data');
  const section = [
    '## Steps',
    '',
    `Validation PSNR (dB) on ${ds.val.length} crops of the training data set's val photos (fixed seed), with the`,
    'deterministic CoDi sampler (re-uses ε̂, as the released code) and the re-noising one (fresh noise',
    'between steps, as consistency models); one step is the same for both:',
    '',
    '| sampler | 1 step | 2 steps | 4 steps |',
    '|---|---|---|---|',
    `| deterministic (\`codi\`) | ${STEPS.map((s) => measured.codi[s].toFixed(2)).join(' | ')} |`,
    `| re-noising (\`codi-renoise\`) | ${measured.codi[1].toFixed(2)} | ${measured.renoise[2].toFixed(2)} | ${measured.renoise[4].toFixed(2)} |`,
    '',
    ...(Number.isFinite(floor) ? [`The condition's own image on the same crops (${conditionImage(pack.manifest)}): ${floor.toFixed(2)} dB.`, ''] : []),
    `Default sampler: \`${choice.kind}\` (better over 2 and 4 steps together). ` +
      (chooseSteps
        ? `Default: ${best} step${best > 1 ? 's' : ''} (the best measured with it).${best < 4 ? ' This pack is a short CPU run; its predictions at intermediate timesteps are still weak, so more steps are not better yet.' : ''}`
        : `Steps: ${best}, as in the evaluation table.`),
    '',
  ].join('\n');
  const before = head!.split('\n## Steps')[0]!.trimEnd();
  await writeFileAtomic(cardPath, `${before}\n\n${section}${rest.length ? `\n## Training data${rest.join('\n## Training data')}` : ''}`);
  console.log(`${name}: PSNR codi ${STEPS.map((s) => `${s}:${measured.codi[s].toFixed(2)}`).join(' ')}, renoise 2:${measured.renoise[2].toFixed(2)} 4:${measured.renoise[4].toFixed(2)} → ${choice.kind}, ${best} step${best > 1 ? 's' : ''} (chosen: ${(psnr as Record<number, number>)[best]?.toFixed(2) ?? '?'} dB)`);
}

/** What the condition's image is, in words, for the model card. */
function conditionImage(m: { task: string; holeFill?: 'zero' | 'telea' | undefined }): string {
  if (m.task === 'restore') return 'bicubic upsample of the degraded input';
  if (m.task === 'inpaint') return m.holeFill === 'telea' ? 'the classic Telea fill of the hole' : 'the photo with the hole zeroed';
  return 'the unchanged input';
}
