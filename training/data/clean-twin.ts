/**
 * A restoration data set's "clean twin": the same targets, splits and items, but every input
 * is a plain bicubic downscale of its target (no blur, noise, resize chain or JPEG).
 *
 * Why it exists: it separates "the network or the trainer cannot learn super-resolution" from
 * "the real-world degradation destroys what a model could learn" (training/bench/
 * restore-learnability.ts trains the same probe on both and compares).
 */
import { copyFile, mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { parseItems, parseMeta } from './dataset-reader.ts';

/** Write the clean twin of restoration data set `src` into `dst` (targets are linked, not copied). */
export async function writeCleanTwin(src: string, dst: string): Promise<{ items: number; scale: number }> {
  const meta = parseMeta(await readFile(path.join(src, 'dataset.json'), 'utf8'));
  if (meta.task !== 'restore') throw new Error(`${src} is a "${meta.task}" data set; a clean twin needs a restore data set`);
  const items = parseItems(await readFile(path.join(src, 'items.jsonl'), 'utf8'));
  await mkdir(path.join(dst, 'input'), { recursive: true });
  await copyFile(path.join(src, 'dataset.json'), path.join(dst, 'dataset.json'));
  await copyFile(path.join(src, 'items.jsonl'), path.join(dst, 'items.jsonl'));
  await symlink(path.resolve(src, 'target'), path.join(dst, 'target'), 'dir');
  let scale = 0;
  for (const it of items) {
    if (!it.input || !it.scale) throw new Error(`${src}: item ${it.target} has no input or scale`);
    scale = it.scale;
    const targetPath = path.join(src, it.target);
    const { width, height } = await sharp(targetPath).metadata();
    if (!width || !height || width % it.scale !== 0 || height % it.scale !== 0) {
      throw new Error(`${targetPath}: ${width}×${height} is not a multiple of ×${it.scale}`);
    }
    await sharp(targetPath)
      .removeAlpha()
      .resize(width / it.scale, height / it.scale, { kernel: 'cubic' })
      .png()
      .toFile(path.join(dst, it.input));
  }
  return { items: items.length, scale };
}
