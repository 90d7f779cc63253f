/**
 * From a restoration data set (codi build-dataset --task restore: real-world degraded inputs) write
 *   <out>-clean: the same items and targets, inputs = cleanJpegLowRes(target) (bicubic ×4 + JPEG q95);
 *   <out>-mix:   every item twice, degraded and clean input, interleaved per item so that
 *                --max-items and the val split keep the two kinds balanced.
 * Targets (and the mix's degraded inputs) are linked, not copied. Resumable: an input already
 * written is kept.
 *
 *   npx tsx build/restore/make-twins.ts datasets/restore-x4 datasets/restore-x4
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseItems, parseMeta } from '../../training/data/dataset-reader.ts';
import { readRgb, writePng } from '../../training/data/image.ts';
import { CLEAN_JPEG_QUALITY, cleanJpegLowRes } from './clean-jpeg.ts';

async function linkOnce(target: string, at: string): Promise<void> {
  if (!existsSync(at)) await symlink(path.resolve(target), at, 'dir');
}

export async function makeTwins(src: string, outBase: string, log: (s: string) => void = () => {}): Promise<{ clean: string; mix: string; items: number }> {
  const metaText = await readFile(path.join(src, 'dataset.json'), 'utf8');
  const meta = parseMeta(metaText);
  if (meta.task !== 'restore') throw new Error(`${src} is a "${meta.task}" data set; twins need a restore data set`);
  const items = parseItems(await readFile(path.join(src, 'items.jsonl'), 'utf8'));
  const clean = `${outBase}-clean`;
  const mix = `${outBase}-mix`;
  await mkdir(path.join(clean, 'input'), { recursive: true });
  await mkdir(mix, { recursive: true });
  await linkOnce(path.join(src, 'target'), path.join(clean, 'target'));
  await linkOnce(path.join(src, 'target'), path.join(mix, 'target'));
  await linkOnce(path.join(src, 'input'), path.join(mix, 'input-degraded'));
  await linkOnce(path.join(clean, 'input'), path.join(mix, 'input-clean'));
  const cleanLines: string[] = [];
  const mixLines: string[] = [];
  for (const [i, it] of items.entries()) {
    if (!it.input || !it.scale) throw new Error(`${src}: item ${it.target} has no input or scale`);
    const out = path.join(clean, it.input);
    if (!existsSync(out)) await writePng(await cleanJpegLowRes(await readRgb(path.join(src, it.target)), it.scale), out);
    cleanLines.push(JSON.stringify(it));
    const name = path.basename(it.input);
    mixLines.push(JSON.stringify({ ...it, input: `input-degraded/${name}` }), JSON.stringify({ ...it, input: `input-clean/${name}` }));
    if ((i + 1) % 1000 === 0) log(`${i + 1}/${items.length}`);
  }
  const parsed = JSON.parse(metaText) as Record<string, unknown>;
  const build = (parsed.build ?? {}) as Record<string, unknown>;
  const note = { from: src, clean: `bicubic ×${items[0]?.scale ?? '?'} downscale + JPEG q${CLEAN_JPEG_QUALITY} (build/restore/clean-jpeg.ts)` };
  await writeFile(path.join(clean, 'dataset.json'), `${JSON.stringify({ ...parsed, build: { ...build, twin: { ...note, inputs: 'clean' } } }, null, 2)}\n`);
  await writeFile(path.join(clean, 'items.jsonl'), `${cleanLines.join('\n')}\n`);
  await writeFile(path.join(mix, 'dataset.json'), `${JSON.stringify({ ...parsed, build: { ...build, twin: { ...note, inputs: 'degraded and clean, interleaved per item' } } }, null, 2)}\n`);
  await writeFile(path.join(mix, 'items.jsonl'), `${mixLines.join('\n')}\n`);
  return { clean, mix, items: items.length };
}

const [src, outBase] = process.argv.slice(2);
if (process.argv[1]?.endsWith('make-twins.ts')) {
  if (!src || !outBase) {
    console.error('usage: make-twins.ts SRC_RESTORE_DATASET OUT_BASE');
    process.exit(2);
  }
  const r = await makeTwins(src, outBase, (s) => console.error(s));
  console.log(`wrote ${r.clean} and ${r.mix} from ${r.items} items`);
}
