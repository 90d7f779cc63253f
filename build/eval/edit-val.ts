/**
 * Edit packs on the VALIDATION split of an edit data set: the place to choose between candidate
 * packs (steps, recipes), since the held-out photos of `npm run eval` may only be measured, never
 * chosen on. Every known instruction is applied to the same val inputs, as the engine applies it
 * (pack-rows.ts editWithPack), and judged by its own check (edit-checks.ts), with the issue's targets
 * (each edit ≥ 90 %, "black and white" mean chroma ≤ 3/255) from edit-checks.ts editTargets.
 *
 *   npx tsx build/eval/edit-val.ts --data datasets/edit --packs DIR[,DIR…] [--images 40] [--seed 0] [--out REPORT]
 *
 * Each packs folder (as the app scans one: pack folders inside, a PE-CoDi pack beside its backbone)
 * must hold one edit pack; a column per folder.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EDIT_INSTRUCTIONS } from '../../training/data/edit-instructions.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { decode } from './convert.ts';
import { checkEdit, editTargets, summariseEdit } from './edit-checks.ts';
import type { EditSummary } from './edit-checks.ts';
import { editWithPack, findPack, openPacks, packInstructions } from './pack-rows.ts';
import { initEvalBackend } from './tfjs-local.ts';

interface PackResult {
  folder: string;
  pack: string;
  rows: EditSummary[];
}

/** Distinct val inputs of the data set, in file order (items repeat an input with other wordings). */
async function valInputs(dataDir: string, count: number): Promise<PlanarImage[]> {
  const seen = new Set<string>();
  const out: PlanarImage[] = [];
  for (const line of readFileSync(path.join(dataDir, 'items.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const item = JSON.parse(line) as { split: string; input: string };
    if (item.split !== 'val' || seen.has(item.input)) continue;
    seen.add(item.input);
    out.push(await decode(path.join(dataDir, item.input)));
    if (out.length === count) break;
  }
  if (out.length === 0) throw new Error(`${dataDir} has no val items`);
  return out;
}

async function measureFolder(folder: string, inputs: readonly PlanarImage[], seed: number, log: (s: string) => void): Promise<PackResult> {
  const packs = await openPacks(folder, 1);
  try {
    const rec = findPack(packs.records, 'edit', null);
    if (typeof rec === 'string') throw new Error(`${folder}: ${rec}`);
    const model = await packs.registry.load(rec.name);
    const rows: EditSummary[] = [];
    // one row per edit, at its canonical wording (the one the app's tool offers)
    const known = new Set(packInstructions(model));
    for (const edit of EDIT_INSTRUCTIONS) {
      const instruction = edit.instruction;
      if (!known.has(instruction)) continue;
      const checks = [];
      const t0 = performance.now();
      for (const [i, src] of inputs.entries()) checks.push(checkEdit(edit.id, src, await editWithPack(model, src, instruction, seed + i)));
      const row = summariseEdit(edit.id, instruction, checks, (performance.now() - t0) / inputs.length);
      log(`${folder}: "${instruction}" pass ${(100 * row.passRate).toFixed(0)} %, ${row.meanPsnrToTarget.toFixed(2)} dB`);
      rows.push(row);
    }
    return { folder, pack: `${rec.name} ${rec.manifest?.version ?? ''} (${rec.manifest?.method ?? '?'})`, rows };
  } finally {
    await packs.close();
  }
}

function render(results: readonly PackResult[], images: number, dataDir: string): string {
  const head = `| edit | ${results.map((r) => r.pack).join(' | ')} |\n|---|${results.map(() => '---|').join('')}\n`;
  const edits = results[0]?.rows.map((r) => r.instruction) ?? [];
  const body = edits
    .map((ins) => `| ${ins} | ${results.map((r) => { const row = r.rows.find((x) => x.instruction === ins); return row ? `${(100 * row.passRate).toFixed(0)} % · ${row.meanPsnrToTarget.toFixed(2)} dB` : '—'; }).join(' | ')} |`)
    .join('\n');
  const targets = results.map((r) => editTargets(r.rows));
  const mean = (r: PackResult, f: (s: EditSummary) => number): number => r.rows.reduce((a, s) => a + f(s), 0) / Math.max(1, r.rows.length);
  const summary = [
    `| mean pass rate | ${results.map((r) => `${(100 * mean(r, (s) => s.passRate)).toFixed(1)} %`).join(' | ')} |`,
    `| mean PSNR to procedural | ${results.map((r) => `${mean(r, (s) => s.meanPsnrToTarget).toFixed(2)} dB`).join(' | ')} |`,
    // the issue's targets, judged by the one implementation the held-out report uses
    ...(targets[0] ?? []).map((t, k) => `| ${t.target} | ${targets.map((ts) => (ts[k] ? `${ts[k].met ? 'yes' : 'no'}: ${ts[k].detail}` : '—')).join(' | ')} |`),
  ].join('\n');
  return `Val split of ${dataDir}: ${images} distinct inputs; cells: pass rate of the edit's own check · PSNR to the procedural edit.\n\n${head}${body}\n${summary}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string' }, packs: { type: 'string' }, images: { type: 'string', default: '40' }, seed: { type: 'string', default: '0' }, out: { type: 'string' } } });
  if (!values.data || !values.packs) throw new Error('usage: edit-val.ts --data DATASET --packs DIR[,DIR…] [--images N] [--seed N] [--out REPORT]');
  await initEvalBackend();
  const inputs = await valInputs(values.data, Number(values.images));
  const results: PackResult[] = [];
  for (const folder of values.packs.split(',')) results.push(await measureFolder(folder, inputs, Number(values.seed), (s) => console.error(s)));
  const md = render(results, inputs.length, values.data);
  if (values.out) writeFileSync(values.out, md);
  process.stdout.write(md);
}

await main();
