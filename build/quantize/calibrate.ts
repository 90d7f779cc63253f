/**
 * Adds a statically quantised int8 copy of a pack's denoiser to the pack (manifest file entry with
 * `precision: 'int8'`, core/packs/graph-choice.ts), calibrated on TRAINING-split items of the
 * pack's own data set, never on validation or held-out photos:
 *
 * 1. build/quantize/qdq_static.py writes a probe graph: the float denoiser with every Conv's input
 *    and output exposed.
 * 2. The pack runs its own tool path on the calibration items (the eval harness's inpaintWithPack
 *    / restoreWithPack: the same conditions, start temperature and samples as the app), with the
 *    probe graph in place of the denoiser, and each exposed tensor's range is recorded.
 * 3. qdq_static.py writes the QDQ graph from those ranges; its hash, size and IO signature (the
 *    float graph's) go into the manifest.
 *
 * Whether the int8 graph is as good as the float one is measured afterwards on the validation
 * split (build/choose-fill-samples.ts --measure-only, CODI_PRECISION=int8 against the default;
 * build/restore/restore-val.ts), and the model card says so.
 *
 *   npx tsx build/quantize/calibrate.ts PACK_DIR --data DATASET_DIR [--items 64] [--float-ends]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { manifestSchema } from '../../core/packs/manifest.ts';
import type { PackFile } from '../../core/packs/manifest.ts';
import { parseItems } from '../../training/data/dataset-reader.ts';
import { readRgb } from '../../training/data/image.ts';
import { writeFileAtomic } from '../../training/export/export-onnx.ts';
import type { OrtTensorIn } from '../../electron/engine/ort.ts';
import { evalMask } from '../eval/inpaint-eval.ts';
import { inpaintWithPack, restoreWithPack } from '../eval/pack-rows.ts';
import { openStagedPack } from '../eval/restore-x4-rows.ts';

const PY = process.env.CODI_PYTHON ?? '/usr/bin/python3';
const SCRIPT = new URL('./qdq_static.py', import.meta.url).pathname;
const INT8_GRAPH = 'denoiser-int8.onnx';

/** Running [min, max] of every probed tensor. */
class Ranges {
  readonly byName = new Map<string, [number, number]>();
  add(name: string, data: Float32Array): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of data) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const old = this.byName.get(name);
    this.byName.set(name, old ? [Math.min(old[0], lo), Math.max(old[1], hi)] : [lo, hi]);
  }
}

async function main(): Promise<void> {
  // the registry below must load the float graph (the default, core/packs/graph-choice.ts)
  delete process.env.CODI_PRECISION;
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { data: { type: 'string' }, items: { type: 'string', default: '64' }, 'float-ends': { type: 'boolean', default: false } } });
  const packDir = positionals[0];
  if (!packDir || !values.data) throw new Error('usage: calibrate.ts PACK_DIR --data DATASET_DIR [--items 64]');
  const raw = JSON.parse(readFileSync(path.join(packDir, 'manifest.json'), 'utf8')) as { files: PackFile[] } & Record<string, unknown>;
  const float = raw.files.find((f) => f.role === 'denoiser' && (f.precision ?? 'float32') === 'float32');
  if (!float) throw new Error(`${packDir}: no float denoiser graph to quantise`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'codi-calib-'));
  try {
    const probePath = path.join(work, 'probe.onnx');
    execFileSync(PY, [SCRIPT, 'probe', path.join(packDir, float.path), probePath], { stdio: 'inherit' });
    const probe = await ort.InferenceSession.create(probePath, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
    const ranges = new Ranges();
    const staged = await openStagedPack(packDir, 2);
    try {
      const model = staged.model;
      if (model.kind !== 'denoiser') throw new Error('only fused-denoiser packs are quantised');
      const probed = {
        ...model,
        denoiser: {
          ...model.denoiser,
          run: async (feeds: Record<string, OrtTensorIn>): Promise<Record<string, OrtTensorIn>> => {
            const f: Record<string, ort.Tensor> = {};
            for (const [k, v] of Object.entries(feeds)) {
              ranges.add(k, v.data);
              f[k] = new ort.Tensor('float32', v.data, [...v.dims]);
            }
            const out = await probe.run(f);
            for (const [k, v] of Object.entries(out)) ranges.add(k, v.data as Float32Array);
            const v = out.v;
            if (!v) throw new Error('probe graph gave no v');
            return { v: { data: v.data as Float32Array, dims: v.dims } };
          },
        },
      };
      const items = parseItems(readFileSync(path.join(values.data, 'items.jsonl'), 'utf8')).filter((it) => it.split === 'train');
      const n = Math.min(Number(values.items), items.length);
      // spread over the data set: items are written photo after photo
      const picked = Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
      const task = model.manifest.task;
      for (const [i, it] of picked.entries()) {
        const target = await readRgb(path.join(values.data, it.target));
        if (task === 'inpaint') await inpaintWithPack(probed, target, evalMask(`calib:${it.target}`, target.width, target.height), 7000 + i);
        else if (task === 'restore') {
          if (!it.input) throw new Error(`${it.target}: restore item without an input`);
          await restoreWithPack(probed, await readRgb(path.join(values.data, it.input)), 'pack', model.manifest.sampler.steps, 7000 + i);
        } else throw new Error(`calibration for ${task} packs is not written yet`);
      }
      console.error(`${n} training items of ${values.data}: ${ranges.byName.size} tensors probed`);
    } finally {
      await staged.close();
      await probe.release();
    }
    const rangesPath = path.join(work, 'ranges.json');
    writeFileSync(rangesPath, JSON.stringify(Object.fromEntries(ranges.byName)));
    const outPath = path.join(packDir, INT8_GRAPH);
    execFileSync(PY, [SCRIPT, 'quantise', path.join(packDir, float.path), rangesPath, outPath, ...(values['float-ends'] ? ['--float-ends'] : [])], { stdio: 'inherit' });
    const bytes = readFileSync(outPath);
    const entry: PackFile = {
      path: INT8_GRAPH,
      role: 'denoiser',
      precision: 'int8',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      ...(float.inputs ? { inputs: float.inputs } : {}),
      ...(float.outputs ? { outputs: float.outputs } : {}),
    };
    const files = [...raw.files.filter((f) => f.path !== INT8_GRAPH), entry];
    const manifest = manifestSchema.parse({ ...raw, files });
    await writeFileAtomic(path.join(packDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(`${packDir}: ${INT8_GRAPH} (${(bytes.length / 1e6).toFixed(2)} MB, float ${(float.bytes / 1e6).toFixed(2)} MB) calibrated on ${values.items} training items`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
