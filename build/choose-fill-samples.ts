/**
 * After `build/choose-default-steps.ts`: an inpaint pack's `fillSamples` (the fill is the mean of n
 * samples, core/packs/manifest.ts), chosen on the validation split of its training data set (never
 * on the held-out photos): the smallest n of 1, 2, 4 whose mean hole PSNR is within 0.05 dB of the
 * best of them, since each sample costs a model call. If even that is below the classic Telea fill
 * on the same crops, the pack's `fillSource` becomes 'classic': the tool gives the classic fill. The fills run as the eval and the app run
 * them (build/eval/pack-rows.ts inpaintWithPack: colour match and feathered paste included).
 *
 *   npx tsx build/choose-fill-samples.ts [native-models] [datasets] [--items 96]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { manifestSchema } from '../core/packs/manifest.ts';
import { fromInterleavedU8 } from '../training/data/image.ts';
import { writeFileAtomic } from '../training/export/export-onnx.ts';
import { holeMeasures } from './eval/metrics.ts';
import { teleaCase } from './eval/inpaint-eval.ts';
import { inpaintWithPack, openPacks } from './eval/pack-rows.ts';

const CHOICES = [1, 2, 4] as const;
const TOLERANCE_DB = 0.05;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { items: { type: 'string', default: '96' } } });
const packsDir = positionals[0] ?? 'native-models';
const dataDir = positionals[1] ?? 'datasets';
const name = 'codi-inpaint';
const packs = await openPacks(packsDir, 2);
try {
  const dir = path.join(packsDir, name);
  const model = await packs.registry.load(name);
  const items = (await readFile(path.join(dataDir, 'inpaint', 'items.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { split: string; target: string; mask: string })
    .filter((i) => i.split === 'val')
    .slice(0, Number(values.items));
  const cases = [];
  for (const it of items) {
    const t = await sharp(path.join(dataDir, 'inpaint', it.target)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const m = await sharp(path.join(dataDir, 'inpaint', it.mask)).greyscale().raw().toBuffer({ resolveWithObject: true });
    cases.push({ truth: fromInterleavedU8(new Uint8Array(t.data), t.info.width, t.info.height, 3), mask: Float32Array.from(m.data, (v) => (v >= 128 ? 1 : 0)) });
  }
  const psnr: Record<number, number> = {};
  for (const n of CHOICES) {
    const withN = { ...model, manifest: { ...model.manifest, fillSamples: n } };
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
  const [head, ...rest] = (await readFile(cardPath, 'utf8')).split('\n## Training data');
  const section = [
    '## Samples per fill',
    '',
    `Mean hole PSNR on ${cases.length} validation crops of the training data set, the fill being the mean of n one-step samples (colour match and paste as in the app):`,
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
  const before = (head as string).split('\n## Samples per fill')[0]!.trimEnd();
  await writeFileAtomic(cardPath, `${before}\n\n${section}${rest.length ? `\n## Training data${rest.join('\n## Training data')}` : ''}`);
  console.log(`${name}: hole PSNR ${CHOICES.map((k) => `${k}:${(psnr[k] as number).toFixed(2)}`).join(' ')} (Telea ${classic.toFixed(2)}) → fillSamples ${n}${classicWins ? ', fillSource classic' : ''}`);
} finally {
  await packs.close();
}
