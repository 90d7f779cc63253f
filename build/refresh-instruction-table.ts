/**
 * Rewrites a trained pack's instruction table with the current exporter
 * (training/cli/pack-export.ts instructionTable) from the wordings it already lists, and updates
 * the manifest's hash and size for it: for a table field added after the pack was trained (the
 * `achromatic` edits, 2026-12-06) without training again. The embeddings come from the same
 * featurizer, so they do not change.
 *
 *   npx tsx build/refresh-instruction-table.ts native-models/codi-edit
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { manifestSchema } from '../core/packs/manifest.ts';
import type { KnownInstruction } from '../core/text/instruction-features.ts';
import { INSTRUCTION_TABLE_FILE, instructionTable } from '../training/cli/pack-export.ts';
import { writeFileAtomic } from '../training/export/export-onnx.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: refresh-instruction-table.ts PACK_DIR');
const manifest = manifestSchema.parse(JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')));
const entry = manifest.files.find((f) => f.role === 'instruction-table');
if (!entry) throw new Error(`${dir}: the pack has no instruction table`);
const old = JSON.parse(readFileSync(path.join(dir, entry.path), 'utf8')) as { dim: number; known?: KnownInstruction[] };
if (!old.known?.length) throw new Error(`${dir}: the table lists no known wordings (an exact-lookup table cannot be rebuilt)`);
const text = instructionTable(old.known, old.dim);
const bytes = Buffer.from(text, 'utf8');
await writeFileAtomic(path.join(dir, INSTRUCTION_TABLE_FILE), text);
const files = manifest.files.map((f) => (f === entry ? { ...f, path: INSTRUCTION_TABLE_FILE, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length } : f));
await writeFileAtomic(path.join(dir, 'manifest.json'), `${JSON.stringify(manifestSchema.parse({ ...manifest, files }), null, 2)}\n`);
console.log(`${dir}: ${INSTRUCTION_TABLE_FILE} rewritten (${bytes.length} bytes; achromatic: ${JSON.stringify((JSON.parse(text) as { achromatic: string[] }).achromatic)})`);
