/**
 * After `build/train-bundled.sh` has trained everything: the evaluation-only baseline packs in
 * native-models/.baselines keep their graphs, manifests and cards but not their training weights.
 * `npm run eval` reads only the graphs, and the one pack trained from another (CM from the
 * teacher) is trained in the same run, before this step. That keeps 22 MB of the 120 MB budget for
 * the tools users run (their int8 graphs among them).
 *
 *   npx tsx build/prune-baselines.ts [native-models]
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { manifestSchema } from '../core/packs/manifest.ts';
import { TRAIN_WEIGHTS_FILE } from '../training/cli/train-weights.ts';
import { writeFileAtomic } from '../training/export/export-onnx.ts';

const root = path.join(process.argv[2] ?? 'native-models', '.baselines');
if (existsSync(root)) {
  for (const name of readdirSync(root)) {
    const dir = path.join(root, name);
    const manifestPath = path.join(dir, 'manifest.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
    const files = manifest.files.filter((f) => f.path !== TRAIN_WEIGHTS_FILE);
    if (files.length === manifest.files.length) continue;
    // the manifest first: a pack whose manifest lists a missing file would not load
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifestSchema.parse({ ...manifest, files }), null, 2)}\n`);
    rmSync(path.join(dir, TRAIN_WEIGHTS_FILE), { force: true });
    console.log(`${name}: ${TRAIN_WEIGHTS_FILE} removed (evaluation reads the graph only)`);
  }
}
