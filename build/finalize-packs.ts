/**
 * After `build/train-bundled.sh`: give each bundled pack its user-facing title, the inference tile
 * size, and a model card section listing the photographs it was trained on with their Debian
 * package, version and licence (read from the data set's dataset.json; only when that data set is
 * the one the pack was trained on, build/pack-card-sources.ts). The manifest is
 * re-validated with the shared schema before it is written back atomically.
 *
 *   npx tsx build/finalize-packs.ts [native-models] [datasets]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { manifestSchema } from '../core/packs/manifest.ts';
import { writeFileAtomic } from '../training/export/export-onnx.ts';
import { withTrainingData } from './pack-card-sources.ts';
import type { SourceRecord } from './pack-card-sources.ts';


/** Pack → (title, data set folder, upscale). The graphs are fully convolutional, so tiles larger than the 64 px training crops are fine and far cheaper. */
const PACKS: Record<string, { title: string; data: string; upscale: number; restoreFor?: 'clean' | 'damaged'; carry?: { kind: 'gain-offset'; radius: number; samples: number; workingSize?: number; space?: 'rgb' | 'opponent' } }> = {
  'codi-backbone': { title: 'CoDi backbone (unconditional, shared by the adapters)', data: 'restore-x4', upscale: 1 },
  // Two ×4 tools, one per kind of photo (issue 20): trained on the clean twin (bicubic ×4 + JPEG q95), and that network
  // fine-tuned on the real-world degradations. On val each specialist beat the degraded+clean mix on its own split
  // (MODEL_CARD of codi-restore-x4-degraded, "One tool or two").
  'codi-restore-x4': { title: 'Upscale ×4: clean small photos (CoDi)', data: 'restore-x4-clean', upscale: 4, restoreFor: 'clean' },
  'codi-restore-x4-degraded': { title: 'Restore ×4: blurred, noisy or JPEG-damaged photos (CoDi)', data: 'restore-x4', upscale: 4, restoreFor: 'damaged' },
  'codi-inpaint': { title: 'Inpaint (CoDi)', data: 'inpaint', upscale: 1 },
  // Carry (manifest `carry`): measured on 48 val crops (2026-11-26, residual pack): 1 sample direct 19.54 dB,
  // mean of 8 samples carried with radius 8 px at the 256 px tile size 21.04 dB (the unedited sources: 20.48).
  // Working size 64 px (the training crops), radius 2 px there: on the val photos (10 crops of 256², 17 edits) "add a
  // vignette" corner/centre 0.918 → 0.799 (target 0.640; moved 0 → 70 %), mean moved-rate 90.6 % both, mean PSNR to the
  // procedural edit 33.11 → 32.83 dB (256 px, radius 8 before; 128/4: vignette 0.868, 32.90 dB; 96/3: 0.843, 32.88 dB).
  // space 'opponent' (core/image/gain-offset.ts CarrySpace), chosen on 40 val crops of 256² (build/eval/edit-val.ts,
  // 2026-12-06, whole-network pack): "black and white" 6.29 → 4.36/255, pass rate 99.6 → 99.4 %, mean PSNR to the
  // procedural edits 38.03 → 37.52 dB (warmer/cooler 47–48 → 43 dB: a per-channel R/B gain is not one per opponent plane).
  'codi-edit': { title: 'Instruction edit (CoDi)', data: 'edit', upscale: 1, carry: { kind: 'gain-offset', radius: 2, samples: 8, workingSize: 64, space: 'opponent' } },
  'codi-depth': { title: 'Depth to image (CoDi)', data: 'depth', upscale: 1 },
  // the evaluation's baselines (restoration ×4), in the dot-folder the app's pack scan skips
  '.baselines/codi-restore-x4-teacher': { title: 'Baseline: conditional teacher, restore ×4 (evaluation only)', data: 'restore-x4', upscale: 4 },
  '.baselines/codi-restore-x4-cm': { title: 'Baseline: CM from the teacher, restore ×4 (evaluation only)', data: 'restore-x4', upscale: 4 },
  '.baselines/codi-restore-x4-full': { title: 'Baseline: full CoDi, restore ×4 (evaluation only)', data: 'restore-x4', upscale: 4 },
};
const TILE = { size: 256, overlap: 32 };

async function main(): Promise<void> {
  const packsDir = process.argv[2] ?? 'native-models';
  const dataDir = process.argv[3] ?? 'datasets';
  for (const [name, info] of Object.entries(PACKS)) {
    const dir = path.join(packsDir, name);
    let raw: string;
    try {
      raw = await readFile(path.join(dir, 'manifest.json'), 'utf8');
    } catch {
      console.log(`${name}: not trained, skipped`);
      continue;
    }
    const manifest = manifestSchema.parse({ ...JSON.parse(raw), title: info.title, upscale: info.upscale, tile: TILE, ...(info.carry ? { carry: info.carry } : {}), ...(info.restoreFor ? { restoreFor: info.restoreFor } : {}) });
    await writeFileAtomic(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const meta = JSON.parse(await readFile(path.join(dataDir, info.data, 'dataset.json'), 'utf8')) as { sources?: SourceRecord[] };
    const cardPath = path.join(dir, manifest.modelCard);
    const card = withTrainingData(await readFile(cardPath, 'utf8'), manifest.training?.sources, meta.sources ?? []);
    if (card.wrote) await writeFileAtomic(cardPath, card.card);
    console.log(`${name}: title, tile ${TILE.size}/${TILE.overlap}, ×${info.upscale}; ${card.wrote ? `${meta.sources?.length ?? 0} sources in the model card` : `model card's training data kept: ${card.why}`}`);
  }
}

await main();
