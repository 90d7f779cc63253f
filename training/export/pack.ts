/**
 * Writes a model pack's manifest.json and MODEL_CARD.md next to files already in the pack
 * folder: hashes and sizes every file, reads each ONNX file's IO signature back from its
 * bytes, checks them against the declared condition widths, and validates the whole
 * manifest with core/packs/manifest.ts before anything is written. manifest.json is written
 * last, so a pack folder with a manifest is complete.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { manifestSchema } from '../../core/packs/manifest.ts';
import type { FileRole, PackFile, PackManifest, TensorDtype, TensorSignature } from '../../core/packs/manifest.ts';
import { writeFileAtomic } from './export-onnx.ts';
import { OnnxDataType, readModelSignature } from './onnx-proto.ts';
import type { OnnxValueInfo } from './onnx-proto.ts';

/** Manifest fields the caller supplies; schema, files and modelCard are filled in by writePack. */
export type PackManifestFields = Omit<z.input<typeof manifestSchema>, 'schema' | 'files' | 'modelCard'>;

export interface WritePackOptions {
  manifest: PackManifestFields;
  /** Files already inside the pack folder, with their roles. */
  files: { path: string; role: FileRole }[];
  /** Markdown text of MODEL_CARD.md. */
  modelCard: string;
}

export const MODEL_CARD_FILE = 'MODEL_CARD.md';
export const MANIFEST_FILE = 'manifest.json';

const dtypeByCode = new Map<number, TensorDtype>([
  [OnnxDataType.float, 'float32'],
  [OnnxDataType.float16, 'float16'],
  [OnnxDataType.int64, 'int64'],
  [OnnxDataType.int32, 'int32'],
  [OnnxDataType.uint8, 'uint8'],
  [OnnxDataType.bool, 'bool'],
]);

function signature(v: OnnxValueInfo, file: string): TensorSignature {
  const dtype = dtypeByCode.get(v.elemType);
  if (!dtype) throw new Error(`${file}: ${v.name} has unsupported element type ${v.elemType}`);
  return { name: v.name, dtype, shape: v.shape };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The declared condition widths must match what the graphs actually take. */
function checkConditionInputs(file: PackFile, conditionChannels: number, textDim: number): void {
  if (file.role !== 'adapter' && file.role !== 'denoiser') return;
  const inputs = file.inputs ?? [];
  const cond = inputs.find((i) => i.name === 'cond');
  if (!cond || cond.shape[1] !== conditionChannels) {
    throw new Error(`${file.path}: cond input has shape [${cond?.shape}] but the manifest says ${conditionChannels} channels`);
  }
  const text = inputs.find((i) => i.name === 'text');
  if ((text ? text.shape[1] : 0) !== textDim) {
    throw new Error(`${file.path}: text input [${text?.shape}] disagrees with textEmbeddingDim ${textDim}`);
  }
}

/** Describe `files` in `dir`, validate, and write MODEL_CARD.md + manifest.json atomically. */
export async function writePack(dir: string, opts: WritePackOptions): Promise<PackManifest> {
  const files: PackFile[] = [];
  for (const f of opts.files) {
    const bytes = new Uint8Array(await readFile(join(dir, f.path)));
    const entry: PackFile = { path: f.path, role: f.role, sha256: sha256Hex(bytes), bytes: bytes.byteLength };
    if (f.path.endsWith('.onnx')) {
      const sig = readModelSignature(bytes);
      entry.inputs = sig.inputs.map((v) => signature(v, f.path));
      entry.outputs = sig.outputs.map((v) => signature(v, f.path));
    }
    files.push(entry);
  }
  const parsed = manifestSchema.safeParse({ ...opts.manifest, schema: 1, files, modelCard: MODEL_CARD_FILE });
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`pack manifest is invalid at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'unknown'}`);
  }
  const manifest = parsed.data;
  for (const f of manifest.files) checkConditionInputs(f, manifest.conditionChannels, manifest.textEmbeddingDim);
  await writeFileAtomic(join(dir, MODEL_CARD_FILE), opts.modelCard);
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
