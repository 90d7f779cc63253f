/**
 * After `build/choose-default-steps.ts`: how an inpaint pack fills, chosen on the validation split
 * of its training data set (never on the held-out photos). Two manifest fields: `fillSamples` (the
 * fill is the mean of n samples) and the sampler's start temperature τ (z_T = τ·ε,
 * core/samplers/start.ts). Every pair of τ in TEMPERATURES and n in SAMPLES is measured, and
 * build/eval/fill-choice.ts picks one: the share of crops meeting the issue's three per-photo
 * criteria against the classic Telea fill first (mean colour, hole PSNR, gradient energy;
 * build/eval/inpaint-eval.ts), then fewer samples, then hole PSNR. If the pick is below the classic
 * fill, the pack's `fillSource` becomes 'classic': the tool gives the classic fill. The fills run
 * as the eval and the app run them (build/eval/pack-rows.ts inpaintWithPack: colour match and
 * feathered paste included).
 *
 * The training data set's crops are 64², where the colour-match ring and feather zone are a large
 * part of each fill; the app inpaints at a 256² context. `--dataset` names another data set of the
 * same validation photos (e.g. `codi build-dataset --task inpaint --size 256 --count 401
 * --val-fraction 0.99`), and `--eval-masks` replaces its masks by the eval's user-like ones (5–40 %,
 * build/eval/inpaint-eval.ts evalMask), so the choice is made on crops like the app's without
 * touching the held-out photos. About 400 crops: on 96 the share's standard error (~4.5 points)
 * was larger than the differences between settings.
 *
 *   npx tsx build/choose-fill-samples.ts [native-models] [datasets] [--items 400] [--dataset inpaint] [--eval-masks]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { manifestSchema } from '../core/packs/manifest.ts';
import { samplerAtTemperature, startTemperature } from '../core/samplers/start.ts';
import { fromInterleavedU8 } from '../training/data/image.ts';
import { writeFileAtomic } from '../training/export/export-onnx.ts';
import { holeMeasures } from './eval/metrics.ts';
import { chooseFill, SHARE_TIE } from './eval/fill-choice.ts';
import type { FillCandidate } from './eval/fill-choice.ts';
import { criteriaAgainst, evalMask, teleaCase } from './eval/inpaint-eval.ts';
import { inpaintWithPack, openPacks } from './eval/pack-rows.ts';

const SAMPLES = [1, 2, 4] as const;
const ANTITHETIC_SAMPLES = [2, 4] as const;
const TEMPERATURES = [1, 0.8, 0.7, 0.6, 0.5] as const;

/** The card with its "Samples per fill" section replaced (or put before "Training data"); other sections kept. */
function withSection(card: string, section: string): string {
  const start = card.indexOf('\n## Samples per fill');
  if (start >= 0) {
    const next = card.indexOf('\n## ', start + 1);
    return `${card.slice(0, start).trimEnd()}\n\n${section}${next >= 0 ? card.slice(next) : ''}`;
  }
  const data = card.indexOf('\n## Training data');
  return data >= 0 ? `${card.slice(0, data).trimEnd()}\n\n${section}${card.slice(data)}` : `${card.trimEnd()}\n\n${section}`;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: {
    items: { type: 'string', default: '400' },
    dataset: { type: 'string', default: 'inpaint' },
    'eval-masks': { type: 'boolean', default: false },
    // measure the pack's current setting only and change nothing (e.g. its int8 graph against
    // CODI_PRECISION=float32, core/packs/graph-choice.ts)
    'measure-only': { type: 'boolean', default: false },
  },
});
const packsDir = positionals[0] ?? 'native-models';
const dataDir = positionals[1] ?? 'datasets';
const datasetDir = path.join(dataDir, values.dataset);
const evalMasks = values['eval-masks'];
const name = 'codi-inpaint';
const packs = await openPacks(packsDir, 2);
try {
  const dir = path.join(packsDir, name);
  const model = await packs.registry.load(name);
  const items = (await readFile(path.join(datasetDir, 'items.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { split: string; target: string; mask: string })
    .filter((i) => i.split === 'val')
    .slice(0, Number(values.items));
  const cases = [];
  for (const it of items) {
    const t = await sharp(path.join(datasetDir, it.target)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const truth = fromInterleavedU8(new Uint8Array(t.data), t.info.width, t.info.height, 3);
    if (evalMasks) {
      cases.push({ truth, mask: evalMask(`val:${it.target}`, t.info.width, t.info.height) });
    } else {
      const m = await sharp(path.join(datasetDir, it.mask)).greyscale().raw().toBuffer({ resolveWithObject: true });
      cases.push({ truth, mask: Float32Array.from(m.data, (v) => (v >= 128 ? 1 : 0)) });
    }
  }
  const size = `${cases[0]?.truth.width ?? 0}²`;
  const classicMeasures = cases.map((c, i) => holeMeasures(teleaCase({ id: `val-${i}`, ...c }), c.truth, c.mask));
  const classic = classicMeasures.reduce((a, m) => a + m.psnr, 0) / cases.length;
  const candidates: FillCandidate[] = [];
  const measureOnly = values['measure-only'];
  const temperatures = measureOnly ? [startTemperature(model.manifest.sampler)] : TEMPERATURES;
  // independent draws at every count; antithetic pairs (z_T, −z_T) where there is a pair to make
  const draws = measureOnly
    ? [{ samples: model.manifest.fillSamples ?? 1, antithetic: model.manifest.sampler.antithetic === true }]
    : [...SAMPLES.map((samples) => ({ samples, antithetic: false })), ...ANTITHETIC_SAMPLES.map((samples) => ({ samples, antithetic: true }))];
  for (const temperature of temperatures) {
    for (const { samples, antithetic } of draws) {
      // the model's own fill, whatever the pack declares now (a classic pack would measure Telea)
      const setting = { ...model, manifest: { ...model.manifest, sampler: { ...model.manifest.sampler, temperature, antithetic }, fillSamples: samples, fillSource: 'model' as const } };
      const measures = [];
      for (const [i, c] of cases.entries()) measures.push(holeMeasures(await inpaintWithPack(setting, c.truth, c.mask, 1000 + i), c.truth, c.mask));
      const criteria = criteriaAgainst(measures, classicMeasures);
      const cand = { temperature, samples, antithetic, psnr: measures.reduce((a, m) => a + m.psnr, 0) / cases.length, allCriteria: criteria.all };
      if (measureOnly) {
        const energy = measures.map((m) => m.gradientEnergyRatio).sort((a, b) => a - b)[measures.length >> 1] ?? 0;
        console.log(`criteria: colour ${(100 * criteria.colour).toFixed(1)} %, PSNR ${(100 * criteria.psnr).toFixed(1)} %, texture ${(100 * criteria.texture).toFixed(1)} %; median energy ratio ${energy.toFixed(3)}`);
      }
      console.error(`τ ${temperature}, ${samples} sample(s)${antithetic ? ' in antithetic pairs' : ''}: ${cand.psnr.toFixed(2)} dB, all three criteria on ${(100 * cand.allCriteria).toFixed(1)} %`);
      candidates.push(cand);
    }
  }
  if (measureOnly) {
    const c = candidates[0]!;
    const graph = model.kind === 'denoiser' && model.graph ? model.graph : 'the pack\'s graphs';
    console.log(`${name} (${cases.length} val crops of ${size}, Telea ${classic.toFixed(2)} dB), ${graph}: τ ${c.temperature}, ${c.samples} sample(s)${c.antithetic ? ' in antithetic pairs' : ''}: ${c.psnr.toFixed(2)} dB, all three criteria on ${(100 * c.allCriteria).toFixed(1)} %`);
    await packs.close();
    process.exit(0);
  }
  const choice = chooseFill(candidates, classic);
  const raw = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { sampler: Record<string, unknown> } & Record<string, unknown>;
  delete raw['fillSource'];
  const { antithetic: _was, ...samplerRest } = samplerAtTemperature(raw.sampler, choice.kind === 'model' ? choice.pick.temperature : 1) as Record<string, unknown>;
  const sampler = choice.kind === 'model' && choice.pick.antithetic ? { ...samplerRest, antithetic: true } : samplerRest;
  const manifest = manifestSchema.parse({ ...raw, sampler, fillSamples: choice.kind === 'model' ? choice.pick.samples : 1, ...(choice.kind === 'classic' ? { fillSource: 'classic' } : {}) });
  await writeFileAtomic(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const cardPath = path.join(dir, manifest.modelCard);
  const card = await readFile(cardPath, 'utf8');
  const cell = (t: number, n: number, antithetic: boolean): string => {
    const c = candidates.find((x) => x.temperature === t && x.samples === n && (x.antithetic ?? false) === antithetic);
    return c ? `${c.psnr.toFixed(2)} dB · ${(100 * c.allCriteria).toFixed(0)} %` : '—';
  };
  const section = [
    '## Samples per fill',
    '',
    `On ${cases.length} validation crops of ${size} (${evalMasks ? "the eval's user-like masks, 5–40 % of the crop" : "the data set's masks"}) cut from the training photo library's validation photos, each fill the mean of n one-step samples started at temperature τ (z_T = τ·ε; colour match and paste as in the app). Cells: mean hole PSNR · share of crops meeting all three per-photo criteria against the classic fill (mean colour within 3 of its error, hole PSNR at most 1 dB below its, gradient energy 0.4–2× the truth's):`,
    '',
    `| τ | ${SAMPLES.map((n) => `n = ${n}`).join(' | ')} | ${ANTITHETIC_SAMPLES.map((n) => `n = ${n}, antithetic pairs`).join(' | ')} |`,
    `|---|${[...SAMPLES, ...ANTITHETIC_SAMPLES].map(() => '---:').join('|')}|`,
    ...TEMPERATURES.map((t) => `| ${t} | ${[...SAMPLES.map((n) => cell(t, n, false)), ...ANTITHETIC_SAMPLES.map((n) => cell(t, n, true))].join(' | ')} |`),
    '',
    `The classic Telea fill alone (core/image/telea.ts), the base the model adds its change to: ${classic.toFixed(2)} dB.`,
    '',
    choice.kind === 'model'
      ? `Default: τ = ${choice.pick.temperature}, ${choice.pick.samples} sample${choice.pick.samples === 1 ? '' : 's'}${choice.pick.antithetic ? ' in antithetic pairs (z_T and −z_T)' : ''}: the highest share of crops meeting the three criteria (settings within ${100 * SHARE_TIE} point of it count as ties), then the fewest samples (each is a model call of the interactive preview), then the best PSNR.`
      : `The classic fill is given (\`fillSource: classic\`): ${choice.why}, so the inpaint tool does not run the model.`,
    '',
  ].join('\n');
  await writeFileAtomic(cardPath, withSection(card, section));
  console.log(`${name} (${cases.length} val crops of ${size}, Telea ${classic.toFixed(2)} dB): ${choice.kind === 'model' ? `τ ${choice.pick.temperature}, fillSamples ${choice.pick.samples}${choice.pick.antithetic ? " (antithetic pairs)" : ""}, ${choice.pick.psnr.toFixed(2)} dB` : `classic (${choice.why})`}`);
} finally {
  await packs.close();
}
