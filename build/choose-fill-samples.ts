/**
 * After `build/choose-default-steps.ts`: an inpaint pack's `fillSamples` (the fill is the mean of n
 * samples, core/packs/manifest.ts), chosen on the validation split of its training data set (never
 * on the held-out photos): the smallest n of 1, 2, 4 whose mean hole PSNR is within 0.05 dB of the
 * best of them, since each sample costs a model call. If even that is below the classic Telea fill
 * on the same crops, the pack's `fillSource` becomes 'classic': the tool gives the classic fill. The fills run as the eval and the app run
 * them (build/eval/pack-rows.ts inpaintWithPack: colour match and feathered paste included).
 *
 * The training data set's crops are 64², where the colour-match ring and feather zone are a large
 * part of each fill; the app inpaints at a 256² context. `--dataset` names another data set of the
 * same validation photos (e.g. `codi build-dataset --task inpaint --size 256 --val-fraction 0.99`),
 * and `--eval-masks` replaces its masks by the eval's user-like ones (5–40 %, build/eval/inpaint-eval.ts
 * evalMask), so the choice is made on crops like the app's without touching the held-out photos.
 *
 *   npx tsx build/choose-fill-samples.ts [native-models] [datasets] [--items 96] [--dataset inpaint] [--eval-masks]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { manifestSchema } from '../core/packs/manifest.ts';
import { fromInterleavedU8 } from '../training/data/image.ts';
import { writeFileAtomic } from '../training/export/export-onnx.ts';
import { holeMeasures } from './eval/metrics.ts';
import { evalMask, teleaCase } from './eval/inpaint-eval.ts';
import { inpaintWithPack, openPacks } from './eval/pack-rows.ts';

const CHOICES = [1, 2, 4] as const;

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
const TOLERANCE_DB = 0.05;

const { values, positionals } = parseArgs({ allowPositionals: true, options: {
    items: { type: 'string', default: '96' },
    dataset: { type: 'string', default: 'inpaint' },
    'eval-masks': { type: 'boolean', default: false },
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
  const psnr: Record<number, number> = {};
  for (const n of CHOICES) {
    // the model's own fill, whatever the pack declares now (a classic pack would measure Telea)
    const withN = { ...model, manifest: { ...model.manifest, fillSamples: n, fillSource: 'model' as const } };
    let sum = 0;
    for (const [i, c] of cases.entries()) sum += holeMeasures(await inpaintWithPack(withN, c.truth, c.mask, 1000 + i), c.truth, c.mask).psnr;
    psnr[n] = sum / cases.length;
  }
  let classic = 0;
  for (const [i, c] of cases.entries()) classic += holeMeasures(teleaCase({ id: `val-${i}`, ...c }), c.truth, c.mask).psnr / cases.length;
  const best = Math.max(...CHOICES.map((n) => psnr[n] as number));
  const n = CHOICES.find((k) => (psnr[k] as number) >= best - TOLERANCE_DB) ?? 1;
  const classicWins = classic > (psnr[n] as number);
  const raw = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  delete raw['fillSource'];
  const manifest = manifestSchema.parse({ ...raw, fillSamples: n, ...(classicWins ? { fillSource: 'classic' } : {}) });
  await writeFileAtomic(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const cardPath = path.join(dir, manifest.modelCard);
  const card = await readFile(cardPath, 'utf8');
  const section = [
    '## Samples per fill',
    '',
    `Mean hole PSNR on ${cases.length} validation crops of ${size} (${evalMasks ? "the eval's user-like masks, 5–40 % of the crop" : "the data set's masks"}) cut from the training photo library's validation photos, the fill being the mean of n one-step samples (colour match and paste as in the app):`,
    '',
    `| n | ${CHOICES.join(' | ')} |`,
    `|---|${CHOICES.map(() => '---:').join('|')}|`,
    `| hole PSNR dB | ${CHOICES.map((k) => (psnr[k] as number).toFixed(2)).join(' | ')} |`,
    '',
    `The classic Telea fill alone (core/image/telea.ts), the base the model adds its change to: ${classic.toFixed(2)} dB.`,
    '',
    `Default: ${n} (the fewest samples within ${TOLERANCE_DB} dB of the best; each sample is one more model call).`,
    '',
    ...(classicWins ? ['The classic fill measured better than the model here, so the pack declares `fillSource: classic`: the inpaint tool gives the classic Telea fill and does not run the model.', ''] : []),
  ].join('\n');
  await writeFileAtomic(cardPath, withSection(card, section));
  console.log(`${name} (${cases.length} val crops of ${size}): hole PSNR ${CHOICES.map((k) => `${k}:${(psnr[k] as number).toFixed(2)}`).join(' ')} (Telea ${classic.toFixed(2)}) → fillSamples ${n}${classicWins ? ', fillSource classic' : ''}`);
} finally {
  await packs.close();
}
