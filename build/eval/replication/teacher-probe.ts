/**
 * The teacher study behind the replication's choice of targets (bench/results/
 * replication-teacher-2026-12-06.md): one restore pack sampled with DDIM at a few step counts on
 * either the held-out crops the replication uses or a data set's own val split, against bicubic.
 *
 *   npx tsx build/eval/replication/teacher-probe.ts PACK_FOLDER [--val DATASET] [--crops N] [--steps 1,4,50]
 *
 * The choice between x and residual targets was made on the val split (--val); the held-out run
 * only reports.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OrtRuntime } from '../../../electron/engine/ort.ts';
import { PackRegistry } from '../../../electron/engine/packs/registry.ts';
import { parseItems } from '../../../training/data/dataset-reader.ts';
import { bicubicUpscale, decode } from '../convert.ts';
import { restoreWithPack } from '../pack-rows.ts';
import { initEvalBackend } from '../tfjs-local.ts';
import type { EvalPair } from './evaluate.ts';
import { heldoutPairs, measure } from './evaluate.ts';

async function valPairs(dataset: string, count: number): Promise<EvalPair[]> {
  const items = parseItems(readFileSync(path.join(dataset, 'items.jsonl'), 'utf8')).filter((it) => it.split === 'val');
  const out: EvalPair[] = [];
  for (const it of items.slice(0, count)) {
    if (!it.input) throw new Error(`${dataset}: item ${it.target} has no input`);
    out.push({ id: it.target, hr: await decode(path.join(dataset, it.target)), lr: await decode(path.join(dataset, it.input)) });
  }
  return out;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { val: { type: 'string' }, crops: { type: 'string' }, steps: { type: 'string' } } });
const folder = path.resolve(positionals[0] ?? '');
const crops = Number(values.crops ?? 37);
const steps = (values.steps ?? '1,4,50').split(',').map(Number);
const pairs = values.val ? await valPairs(values.val, crops) : (await heldoutPairs('medium', () => {})).slice(0, crops);
await initEvalBackend();
const runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });
try {
  const registry = new PackRegistry([{ path: path.dirname(folder), source: 'bundled' }, { path: path.resolve('native-models'), source: 'bundled' }], runtime);
  const record = (await registry.scan()).find((r) => r.root === folder);
  if (!record || record.status !== 'ok') throw new Error(`${folder}: ${record?.problem ?? 'not a pack the registry finds'}`);
  const model = await registry.load(record.name);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const line = (label: string, r: { psnr: number[]; gmsd: number[] }) => console.log(`${label}\t${mean(r.psnr).toFixed(2)} dB\tGMSD ${mean(r.gmsd).toFixed(4)}`);
  console.log(`${record.name}: ${pairs.length} ${values.val ? 'val' : 'held-out'} crops`);
  line('bicubic', await measure(pairs, async (lr) => bicubicUpscale(lr, 4), null, []));
  for (const n of steps) line(`DDIM ${n}`, await measure(pairs, (lr, i) => restoreWithPack(model, lr, 'ddim', n, 1 + i), null, []));
} finally {
  await runtime.releaseAll();
}
