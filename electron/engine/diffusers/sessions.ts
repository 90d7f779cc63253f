/**
 * From a verified diffusers pack to runnable graphs. Every byte handed to ONNX Runtime is read
 * once and checked against the manifest (packs/verify.ts readVerified), external data included.
 * The engine's session seam (ort.ts) takes float32 in and out and model bytes, so each graph is
 * rewritten in memory first (onnx-wire.ts): external tensors are inlined and non-float inputs
 * (CLIP input_ids int32, Optimum's int64 timestep) get a Cast behind a float32 stand-in.
 * Sessions are cached by the graph file's sha256, so two ControlNet packs on one backbone share
 * the backbone UNet's session.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PackFile, PackManifest } from '../../../core/packs/manifest.ts';
import type { ExternalDataFile, LoadedSession, OrtTensorIn } from '../ort.ts';
import { checkSizes, PackError, readVerified } from '../packs/verify.ts';
import type { DiffusersSidecar } from './config.ts';
import { parseSidecar, SIDECAR } from './config.ts';
import { rewriteOnnx, scanOnnx, bufferSource } from './onnx-wire.ts';
import type { WireValueInfo } from './onnx-wire.ts';
import { ClipTokenizer } from './tokenizer.ts';
import type { TokenizerFiles } from './tokenizer.ts';
import { parseManifest } from '../../../core/packs/manifest.ts';

/** What the pipeline needs from ort.ts's OrtRuntime (it satisfies this structurally). */
export interface SessionFactory {
  load(key: string, model: Uint8Array, externalData?: readonly ExternalDataFile[]): Promise<LoadedSession>;
}

/** Protobuf (and so a model with its weights inlined) stops at 2 GiB. */
export const MAX_INLINE_BYTES = 2 ** 31 - 1;
/** One external-data file is held in one Uint8Array (Node's limit). */
const MAX_DATA_FILE_BYTES = 2 ** 32;

/** One graph of a pack, called with its diffusers input names. */
export class DiffusersGraph {
  constructor(
    readonly path: string,
    private readonly session: LoadedSession,
    /** Declared inputs (original names, dtypes and shapes). */
    readonly inputs: readonly WireValueInfo[],
    readonly outputs: readonly WireValueInfo[],
    private readonly renamed: ReadonlyMap<string, string>,
  ) {}

  has(input: string): boolean {
    return this.inputs.some((i) => i.name === input);
  }

  input(name: string): WireValueInfo | undefined {
    return this.inputs.find((i) => i.name === name);
  }

  /** Run with original input names (integer inputs given as float32 values); returns original output names. */
  async run(feeds: Record<string, OrtTensorIn>): Promise<Record<string, OrtTensorIn>> {
    const sessionFeeds: Record<string, OrtTensorIn> = {};
    for (const i of this.inputs) {
      const v = feeds[i.name];
      if (!v) throw new Error(`${this.path}: no value for input "${i.name}"`);
      sessionFeeds[this.renamed.get(i.name) ?? i.name] = v;
    }
    const out = await this.session.run(sessionFeeds);
    const result: Record<string, OrtTensorIn> = {};
    for (const o of this.outputs) {
      const v = out[this.renamed.get(o.name) ?? o.name];
      if (!v) throw new Error(`${this.path}: the session returned no "${o.name}"`);
      result[o.name] = v;
    }
    return result;
  }
}

function fileOf(manifest: PackManifest, rel: string): PackFile {
  const f = manifest.files.find((x) => x.path === rel);
  if (!f) throw new PackError(`the manifest does not list "${rel}"`);
  return f;
}

/**
 * Load one graph: verified bytes → float32 boundary → session (cached by sha256). External
 * data is inlined while the whole model fits a protobuf (`inlineLimit`, default 2 GiB); above
 * that the data files are handed to ONNX Runtime in memory beside the rewritten model, so ORT
 * still sees exactly the bytes that were hash-checked and reads nothing from disk itself.
 */
export async function loadGraph(
  root: string,
  manifest: PackManifest,
  entry: { path: string; externalData: readonly string[] },
  factory: SessionFactory,
  options: { inlineLimit?: number } = {},
): Promise<DiffusersGraph> {
  const file = fileOf(manifest, entry.path);
  const key = `diffusers:${file.sha256}`;
  const bytes = await readVerified(root, file);
  const scan = scanOnnx(bufferSource(bytes));
  const dir = path.posix.dirname(entry.path);
  const total = entry.externalData.reduce((a, rel) => a + fileOf(manifest, rel).bytes, bytes.byteLength);
  const data = new Map<string, Uint8Array>();
  for (const rel of entry.externalData) {
    const f = fileOf(manifest, rel);
    if (f.bytes >= MAX_DATA_FILE_BYTES) throw new PackError(`${rel} is ${f.bytes} bytes; one external-data file may hold at most 4 GiB (re-export with the weights split over several files)`);
    data.set(rel, await readVerified(root, f));
  }
  // Only the files recorded (and hash-checked) at import may be read, and only within their bounds.
  const resolve = (ref: { location: string; tensor: string; offset: number; length?: number }): { rel: string; buf: Uint8Array; end: number } => {
    const rel = path.posix.normalize(path.posix.join(dir, ref.location));
    const buf = data.get(rel);
    if (!buf) throw new PackError(`${entry.path}: external data "${ref.location}" is not one of the pack's recorded files`);
    const end = ref.length === undefined ? buf.byteLength : ref.offset + ref.length;
    if (end > buf.byteLength) throw new PackError(`${entry.path}: external tensor "${ref.tensor}" lies beyond the end of "${rel}"`);
    return { rel, buf, end };
  };
  if (total <= (options.inlineLimit ?? MAX_INLINE_BYTES)) {
    const rewritten = rewriteOnnx(bytes, {
      floatBoundary: true,
      external(ref) {
        const { buf, end } = resolve(ref);
        return buf.subarray(ref.offset, end);
      },
    });
    const session = await factory.load(key, rewritten.bytes);
    return new DiffusersGraph(entry.path, session, scan.inputs, scan.outputs, rewritten.renamed);
  }
  const files = new Map<string, ExternalDataFile>();
  for (const ref of scan.external) {
    const { buf } = resolve(ref);
    files.set(ref.location, { path: ref.location, data: buf });
  }
  const rewritten = rewriteOnnx(bytes, { floatBoundary: true, keepExternal: true });
  const session = await factory.load(key, rewritten.bytes, [...files.values()]);
  return new DiffusersGraph(entry.path, session, scan.inputs, scan.outputs, rewritten.renamed);
}

async function readJsonVerified(root: string, manifest: PackManifest, rel: string): Promise<unknown> {
  const f = manifest.files.find((x) => x.path === rel);
  if (!f) return undefined;
  const text = new TextDecoder().decode(await readVerified(root, f));
  try {
    return JSON.parse(text);
  } catch {
    throw new PackError(`${rel} is not valid JSON`);
  }
}

/** Read the pack's tokenizer files (verified) and build the CLIP tokenizer. */
export async function loadTokenizer(root: string, manifest: PackManifest, sidecar: DiffusersSidecar): Promise<ClipTokenizer> {
  const t = sidecar.tokenizer;
  if (!t) throw new PackError('the pack has no tokenizer');
  const rel = (n: string) => `${t.dir}/${n}`;
  const files: TokenizerFiles = {};
  const json = await readJsonVerified(root, manifest, rel('tokenizer.json'));
  if (json !== undefined) files.tokenizerJson = json;
  const vocab = await readJsonVerified(root, manifest, rel('vocab.json'));
  if (vocab !== undefined) files.vocab = vocab as Record<string, number>;
  const merges = manifest.files.find((f) => f.path === rel('merges.txt'));
  if (merges) files.merges = new TextDecoder().decode(await readVerified(root, merges));
  const cfg = await readJsonVerified(root, manifest, rel('tokenizer_config.json'));
  if (cfg !== undefined) files.tokenizerConfig = cfg as Record<string, unknown>;
  const sp = await readJsonVerified(root, manifest, rel('special_tokens_map.json'));
  if (sp !== undefined) files.specialTokensMap = sp as Record<string, unknown>;
  return ClipTokenizer.fromFiles(files, t.maxLength);
}

/** Manifest + sidecar of a pack folder, with cheap containment and size checks (hashes are checked per file on load). */
export async function readPackHead(dir: string): Promise<{ root: string; manifest: PackManifest; sidecar: DiffusersSidecar }> {
  const root = await fs.realpath(dir);
  const manifest = parseManifest(await fs.readFile(path.join(root, 'manifest.json'), 'utf8'));
  await checkSizes(root, manifest.files);
  const sideFile = fileOf(manifest, SIDECAR);
  const sidecar = parseSidecar(new TextDecoder().decode(await readVerified(root, sideFile)));
  return { root, manifest, sidecar };
}
