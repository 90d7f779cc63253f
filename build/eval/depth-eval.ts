/**
 * Depth to image: does the picture follow the map? For each depth pack given, every held-out
 * depth map is run through the pack as the engine runs it (depth condition = the map's grey,
 * seeded z_T, the pack's own sampler and default steps) for each seed, and the edge correlation
 * of core/image/depth-edges.ts (gradient magnitudes of the output's luminance and of the map,
 * after a Gaussian blur of σ = 1 px) is measured. Reported per map group: mean over maps for
 * each seed, then mean ± spread (sample s.d.) over the seeds.
 *
 * Held-out maps (never used to train or choose; the packages are reserved for evaluation):
 * - real: opencv-doc's aloeGT.png, the Middlebury ground-truth disparity of the aloe stereo pair
 *   (near = bright; its unknown pixels are 0, i.e. read as farthest), at two scales;
 * - matte: opencv-doc's alpha-matting result for the potted plant, read as a two-layer depth map
 *   (plant near = white, background far = black): a real object outline no renderer drew;
 * - render: scenes from the training renderer (training/data/depth-scenes.ts) textured with the
 *   held-out 256² crops of opencv-doc and plasma-workspace-wallpapers photos. Their geometry is
 *   the training distribution's (planes, spheres, boxes), so they test resolution and textures,
 *   not new shapes; the rendered image's own correlation with its map is reported as a reference.
 *
 * `--val DATA_DIR` instead measures on the val split of a depth training data set (what packs are
 * chosen on). Usage:
 *   npx tsx build/eval/depth-eval.ts --packs native-models/codi-depth[,OTHER_PACK…] [--seeds 0,1,2]
 *        [--val datasets/depth [--max-items N]] [--steps N] [--sampler codi|codi-renoise] [--invert] [--json FILE] [--save-dir DIR]
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { depthCondition } from '../../core/conditions.ts';
import { edgeCorrelation, planarLuma } from '../../core/image/depth-edges.ts';
import { makeSchedule } from '../../core/math/schedule.ts';
import { Rng } from '../../core/rng.ts';
import { runSampler } from '../../core/samplers/index.ts';
import type { SamplerKind } from '../../core/samplers/index.ts';
import { pixelShuffle } from '../../core/tensor/layout.ts';
import { f32Ops } from '../../core/tensor/ops.ts';
import { startTemperature } from '../../core/samplers/start.ts';
import { makeDenoiseFn, startLatent } from '../../electron/engine/pipelines/denoise.ts';
import type { PackModel } from '../../electron/engine/packs/registry.ts';
import { DEFAULT_EVAL_CACHE } from './heldout.ts';
import { datasetDepthMaps, heldoutDepthMaps } from './depth-maps.ts';
import type { DepthMap } from './depth-maps.ts';
import { openPacks } from './pack-rows.ts';
import { modelToPlanar } from './convert.ts';

/** One pack's result on one map for one seed. */
export interface DepthScore {
  map: string;
  group: string;
  seed: number;
  corr: number;
}

/** Generate a picture from a depth map (values in [0, 1], near = 1) as the engine's depth tool does. */
export async function depthWithPack(model: PackModel, map: DepthMap, seed: number, steps?: number, sampler?: SamplerKind): Promise<Float32Array> {
  const m = model.manifest;
  const r = m.latent.factor;
  const { width: W, height: H } = map;
  if (H % (4 * r) !== 0 || W % (4 * r) !== 0) throw new Error(`map ${map.name} ${W}x${H} is not a multiple of ${4 * r}`);
  // the engine reads the map as RGB in [−1, 1] and takes its grey: for a grey map that is 2d − 1
  const grey = new Float32Array(W * H);
  for (let i = 0; i < grey.length; i++) grey[i] = 2 * (map.data[i] as number) - 1;
  const cond = depthCondition({ data: grey, shape: [1, 1, H, W] }, r);
  if (cond.shape[1] !== m.conditionChannels) throw new Error(`pack "${m.name}" expects ${m.conditionChannels} condition channels, depth gives ${cond.shape[1]}`);
  const noise = startLatent(startTemperature(m.sampler), [1, 3 * r * r, H / r, W / r], seed);
  const latent = await runSampler(sampler ?? m.sampler.kind, f32Ops, makeDenoiseFn(model, cond, null), noise, makeSchedule(m.schedule), {
    steps: Math.min(steps ?? m.sampler.steps, m.sampler.maxSteps),
    prediction: m.prediction,
    distillSteps: m.sampler.distillSteps ?? 50,
    rng: new Rng(`renoise:${seed}`),
  });
  return planarLuma(modelToPlanar(pixelShuffle(latent, r)).data, W * H);
}

/** Open a depth pack folder beside the bundled backbone it names (a private packs folder of copies). */
export async function openDepthPack(packDir: string, backboneDir: string): Promise<{ model: PackModel; close: () => Promise<void> }> {
  const root = mkdtempSync(path.join(tmpdir(), 'codi-depth-eval-'));
  // copies, not links: the registry lists real folders only (and checks containment)
  cpSync(path.resolve(backboneDir), path.join(root, 'codi-backbone'), { recursive: true });
  cpSync(path.resolve(packDir), path.join(root, 'codi-depth'), { recursive: true });
  const src = await openPacks(root, 1);
  const rec = src.records.find((r) => r.manifest?.task === 'depth');
  if (!rec || rec.status !== 'ok') throw new Error(`${packDir}: no usable depth pack (${rec?.problem ?? 'none found'})`);
  const model = await src.registry.load(rec.name);
  return { model, close: async () => { await src.close(); rmSync(root, { recursive: true, force: true }); } };
}

const mean = (a: readonly number[]): number => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
const sd = (a: readonly number[]): number => (a.length < 2 ? 0 : Math.sqrt(a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (a.length - 1)));

/** Per group: mean over maps for each seed, then mean and s.d. over seeds; also the per-map min over seeds' means. */
export function summarise(scores: readonly DepthScore[]): { group: string; maps: number; perSeed: number[]; mean: number; sd: number; worstMap: number; share03: number }[] {
  const groups = [...new Set(scores.map((s) => s.group)), 'all'];
  return groups.map((g) => {
    const inG = scores.filter((s) => g === 'all' || s.group === g);
    const seeds = [...new Set(inG.map((s) => s.seed))].sort((a, b) => a - b);
    const perSeed = seeds.map((seed) => mean(inG.filter((s) => s.seed === seed).map((s) => s.corr)));
    const maps = [...new Set(inG.map((s) => s.map))];
    const perMap = maps.map((m) => mean(inG.filter((s) => s.map === m).map((s) => s.corr)));
    return { group: g, maps: maps.length, perSeed, mean: mean(perSeed), sd: sd(perSeed), worstMap: Math.min(...perMap), share03: perMap.filter((v) => v >= 0.3).length / Math.max(1, perMap.length) };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      packs: { type: 'string' },
      backbone: { type: 'string', default: 'native-models/codi-backbone' },
      seeds: { type: 'string', default: '0,1,2' },
      val: { type: 'string' },
      'max-items': { type: 'string' },
      steps: { type: 'string' },
      sampler: { type: 'string' },
      invert: { type: 'boolean', default: false },
      json: { type: 'string' },
      'save-dir': { type: 'string' },
      cache: { type: 'string', default: DEFAULT_EVAL_CACHE },
    },
  });
  if (!values.packs) throw new Error('usage: depth-eval.ts --packs PACK[,PACK…] [--seeds 0,1,2] [--val DATA_DIR] [--steps N] [--json FILE]');
  const seeds = values.seeds.split(',').map(Number);
  const steps = values.steps ? Number(values.steps) : undefined;
  const sampler = values.sampler as SamplerKind | undefined;
  const maps: DepthMap[] = values.val
    ? await datasetDepthMaps(values.val, 'val', values['max-items'] ? Number(values['max-items']) : undefined)
    : await heldoutDepthMaps(values.cache);
  // --invert: every map as far = bright, the opposite of the convention, to measure what a user's inverted map gives
  if (values.invert) for (const m of maps) for (let i = 0; i < m.data.length; i++) m.data[i] = 1 - (m.data[i] as number);
  const refs = maps.filter((m) => m.reference).map((m) => ({ map: m.name, group: m.group, corr: edgeCorrelation(m.reference as Float32Array, m.data, m.width, m.height) }));
  const out: Record<string, unknown> = { maps: maps.map((m) => ({ name: m.name, group: m.group, width: m.width, height: m.height, source: m.source })), reference: refs, packs: {} };
  if (refs.length) console.log(`reference (the data's own image vs its map): ${mean(refs.map((r) => r.corr)).toFixed(3)} over ${refs.length} maps`);
  for (const packDir of values.packs.split(',')) {
    const { model, close } = await openDepthPack(packDir, values.backbone);
    const scores: DepthScore[] = [];
    const t0 = performance.now();
    for (const seed of seeds) {
      for (const map of maps) {
        const luma = await depthWithPack(model, map, seed, steps, sampler);
        scores.push({ map: map.name, group: map.group, seed, corr: edgeCorrelation(luma, map.data, map.width, map.height) });
        if (values['save-dir'] && seed === seeds[0]) {
          const dir = path.join(values['save-dir'], path.basename(packDir));
          mkdirSync(dir, { recursive: true });
          const bytes = Uint8Array.from(luma, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
          await sharp(bytes, { raw: { width: map.width, height: map.height, channels: 1 } }).png().toFile(path.join(dir, `${map.name}.png`));
        }
      }
    }
    const ms = (performance.now() - t0) / (seeds.length * maps.length);
    const summary = summarise(scores);
    (out.packs as Record<string, unknown>)[packDir] = { steps: steps ?? model.manifest.sampler.steps, sampler: sampler ?? model.manifest.sampler.kind, msPerMap: ms, summary, scores };
    console.log(`${packDir} (${sampler ?? model.manifest.sampler.kind}, ${steps ?? model.manifest.sampler.steps} step(s), ${ms.toFixed(0)} ms/map):`);
    for (const s of summary) console.log(`  ${s.group.padEnd(7)} ${s.maps} maps  corr ${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)} (seeds: ${s.perSeed.map((v) => v.toFixed(3)).join(', ')})  worst map ${s.worstMap.toFixed(3)}  maps ≥ 0.3: ${(100 * s.share03).toFixed(0)} %`);
    await close();
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify(out, null, 1)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
