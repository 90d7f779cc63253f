/**
 * How core's depth-map rule (core/image/depth-map.ts) sorts real pictures: the peak share of
 * every picture of a group (grey, ≤ 256 px) and how many the rule refuses. Photos are measured as
 * they are (colour: the chroma rule refuses them) and in grey (the question the peak rule answers:
 * a black-and-white photograph). The training groups are what the limit was set from; the
 * held-out groups only check it.
 *   npx tsx build/eval/depth-classifier.ts [--depth-data datasets/depth] [--json FILE]
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEPTH_PEAK_SHARE, depthGreyPlane, depthMapProblem, peakShare } from '../../core/image/depth-map.ts';
import type { InterleavedImage } from '../../core/image/depth-map.ts';
import { DEFAULT_PHOTO_CACHE } from '../../training/data/debian-fetch.ts';
import { DEFAULT_EVAL_CACHE } from './heldout.ts';
import { heldoutDepthMaps } from './depth-maps.ts';

async function load(file: string, grey: boolean): Promise<InterleavedImage> {
  let p = sharp(file).removeAlpha();
  if (grey) p = p.toColourspace('b-w');
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, maxValue: 255, pixels: data };
}

function listImages(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listImages(f));
    else if (/\.(png|jpe?g|webp)$/i.test(e.name)) out.push(f);
  }
  return out.sort();
}

const pct = (a: number[], q: number): number => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] ?? NaN;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'depth-data': { type: 'string', default: 'datasets/depth' }, json: { type: 'string' } } });
  const groups: { name: string; role: string; images: () => Promise<InterleavedImage[]> }[] = [];
  const files = (list: string[], grey: boolean) => () => Promise.all(list.map((f) => load(f, grey)));
  const photos = listImages(path.join(DEFAULT_PHOTO_CACHE, 'photos'));
  const depthDir = path.join(values['depth-data'], 'depth');
  const depths = listImages(depthDir).filter((_, i) => i % 25 === 0);
  groups.push({ name: 'training depth renders (every 25th)', role: 'training, should pass', images: files(depths, false) });
  groups.push({ name: 'training library photos, grey', role: 'training, should be refused', images: files(photos, true) });
  groups.push({ name: 'training library photos, colour', role: 'training, should be refused', images: files(photos, false) });
  const crops = listImages(path.join(DEFAULT_EVAL_CACHE, 'crops')).filter((f) => f.endsWith('hr.png'));
  groups.push({ name: 'held-out photo crops, grey', role: 'held-out, should be refused', images: files(crops, true) });
  groups.push({ name: 'held-out photo crops, colour', role: 'held-out, should be refused', images: files(crops, false) });
  groups.push({
    name: 'held-out depth maps (aloe disparity, plant matte, held-out-textured renders)',
    role: 'held-out, should pass',
    images: async () =>
      (await heldoutDepthMaps(DEFAULT_EVAL_CACHE)).map((m) => ({ width: m.width, height: m.height, channels: 1, maxValue: 255, pixels: Uint8Array.from(m.data, (v) => Math.round(v * 255)) })),
  });
  const rows = [];
  for (const g of groups) {
    const imgs = await g.images();
    if (imgs.length === 0) continue;
    const shares = imgs.map((im) => peakShare(depthGreyPlane(im)));
    const refused = imgs.filter((im) => depthMapProblem(im) !== null).length;
    const row = { group: g.name, role: g.role, n: imgs.length, refused, min: Math.min(...shares), p10: pct(shares, 0.1), p25: pct(shares, 0.25), median: pct(shares, 0.5), max: Math.max(...shares) };
    rows.push(row);
    const f = (v: number): string => `${(100 * v).toFixed(2)} %`;
    console.log(`${g.name} [${g.role}]: ${row.refused}/${row.n} refused; peaks min ${f(row.min)} p10 ${f(row.p10)} p25 ${f(row.p25)} median ${f(row.median)} max ${f(row.max)} (limit ${f(DEPTH_PEAK_SHARE)})`);
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 1)}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
