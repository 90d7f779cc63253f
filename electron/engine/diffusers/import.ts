/**
 * Import of a diffusers-style ONNX folder (Optimum / diffusers export) as a project pack:
 * validate the layout, check that every path and every ONNX external-data `location` stays
 * inside the folder, hash every file (streamed sha256; files over 2 GB are fine), and write
 * manifest.json (core/packs/manifest.ts) + codi-diffusers.json + MODEL_CARD.md atomically.
 * {@link verifyDiffusersPack} re-checks sizes and hashes before any session is created.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { manifestSchema, packRelativePath, parseManifest } from '../../../core/packs/manifest.ts';
import type { FileRole, PackFile, PackManifest, PackSource, PackTask, TensorSignature } from '../../../core/packs/manifest.ts';
import { PackError, isInside, resolveInsidePack } from '../packs/verify.ts';
import { adapterFeatureStrides } from './codi-adapter.ts';
import { codiAdapterNames, controlnetResidualOutputs, modelIndexSchema, parseSidecar, schedulerSpec, SIDECAR, sidecarSchema, unetResidualInputs } from './config.ts';
import type { DiffusersSidecar, SchedulerSpec } from './config.ts';
import { elemTypeName, scanOnnxFile } from './onnx-wire.ts';
import type { OnnxScan, WireValueInfo } from './onnx-wire.ts';

export const MANIFEST = 'manifest.json';
export const MODEL_CARD = 'MODEL_CARD.md';
const MAX_FILES = 64;
const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** Component folders the engine uses (diffusers / Optimum names). */
const COMPONENT_DIRS = ['unet', 'controlnet', 'text_encoder', 'tokenizer', 'scheduler', 'vae_encoder', 'vae_decoder', 'vae_decoder_tiny'] as const;

export interface ImportOptions {
  /** Pack name (manifest `name`, lower-case); default: derived from the folder name. */
  name?: string;
  title?: string;
  version?: string;
  /** Default: inpaint (9-channel UNet), edit (8), backbone (4), restore (ControlNet). */
  task?: PackTask;
  /** Copy into `<into>/<name>/` (the user packs folder) instead of writing beside the files. */
  into?: string;
  /** For a ControlNet folder: the imported pipeline pack whose UNet it drives. */
  backboneDir?: string;
  /** Guidance defaults stored in the sidecar. */
  guidance?: { text?: number; image?: number };
  /** Restore packs: output scale (the low-res input is upscaled bicubically, then refined). Default 1. */
  upscale?: number;
  /** Provenance recorded in the manifest (a pull from a model hub). */
  source?: PackSource;
}

export interface ImportResult {
  dir: string;
  manifest: PackManifest;
  sidecar: DiffusersSidecar;
}

/** Streamed sha256 (and byte count) of a file; optionally copies it to `copyTo` while hashing. */
export async function hashFile(file: string, copyTo?: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const src = createReadStream(file, { highWaterMark: 1 << 20 });
  if (copyTo) await streamPipeline(src, tap, createWriteStream(copyTo, { flags: 'wx' }));
  else {
    for await (const chunk of src.pipe(tap)) void chunk;
  }
  return { sha256: h.digest('hex'), bytes };
}

export async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

export async function readJson(root: string, rel: string): Promise<unknown> {
  const abs = await resolveInsidePack(root, rel);
  const st = await fs.stat(abs);
  if (st.size > MAX_JSON_BYTES) throw new PackError(`${rel} is too large (${st.size} bytes)`);
  try {
    return JSON.parse(await fs.readFile(abs, 'utf8'));
  } catch (err) {
    throw new PackError(`${rel} is not valid JSON: ${(err as Error).message}`);
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Every regular file under `dir` (pack-relative); symlinks and other file types are refused. */
export async function listFiles(root: string, rel: string, out: string[]): Promise<void> {
  const abs = path.join(root, rel);
  const st = await fs.lstat(abs);
  if (st.isSymbolicLink()) throw new PackError(`"${rel}" is a symbolic link; packs must contain real files`);
  if (st.isDirectory()) {
    for (const e of (await fs.readdir(abs)).sort()) await listFiles(root, rel ? `${rel}/${e}` : e, out);
    return;
  }
  if (!st.isFile()) throw new PackError(`"${rel}" is not a regular file`);
  const ok = packRelativePath.safeParse(rel);
  if (!ok.success) throw new PackError(`"${rel}" is not a valid pack path`);
  out.push(rel);
}

const DTYPES = new Set(['float32', 'float16', 'int64', 'int32', 'uint8', 'bool']);
export function signature(v: WireValueInfo): TensorSignature {
  const dtype = elemTypeName(v.elemType);
  if (!DTYPES.has(dtype)) throw new PackError(`graph IO "${v.name}" has unsupported type ${dtype}`);
  return { name: v.name, dtype: dtype as TensorSignature['dtype'], shape: v.shape.slice(0, 8).map((d) => (typeof d === 'string' ? d.slice(0, 32) || '?' : d)) };
}

/** Resolve and check one graph's external-data files: inside the graph's folder and the pack, present, in bounds. */
async function checkExternal(root: string, graphRel: string, scan: OnnxScan): Promise<string[]> {
  const graphDir = path.posix.dirname(graphRel);
  const files = new Map<string, number>();
  for (const ref of scan.external) {
    const loc = ref.location;
    if (loc.includes('\0') || loc.includes('\\') || path.isAbsolute(loc) || /^[A-Za-z]:/.test(loc) || loc.split('/').some((s) => s === '..')) {
      throw new PackError(`${graphRel}: external data of tensor "${ref.tensor}" points outside the pack ("${loc}")`);
    }
    const rel = path.posix.normalize(path.posix.join(graphDir, loc));
    if (!isInside(root, path.resolve(root, rel))) throw new PackError(`${graphRel}: external data "${loc}" points outside the pack`);
    let size = files.get(rel);
    if (size === undefined) {
      let abs: string;
      try {
        abs = await resolveInsidePack(root, rel);
      } catch (err) {
        throw new PackError(`${graphRel}: external data of tensor "${ref.tensor}": ${(err as Error).message}`);
      }
      size = (await fs.stat(abs)).size;
      files.set(rel, size);
    }
    if (ref.offset + (ref.length ?? 0) > size) throw new PackError(`${graphRel}: external tensor "${ref.tensor}" lies beyond the end of "${rel}"`);
  }
  return [...files.keys()].sort();
}

export interface Graph {
  rel: string;
  scan: OnnxScan;
  externalData: string[];
}

export async function graph(root: string, rel: string): Promise<Graph> {
  const abs = await resolveInsidePack(root, rel);
  let scan: OnnxScan;
  try {
    scan = scanOnnxFile(abs);
  } catch (err) {
    throw new PackError(`${rel} is not a readable ONNX model: ${(err as Error).message}`);
  }
  return { rel, scan, externalData: await checkExternal(root, rel, scan) };
}

function need(scan: OnnxScan, rel: string, names: string[], kind: 'input' | 'output'): void {
  const have = new Set((kind === 'input' ? scan.inputs : scan.outputs).map((v) => v.name));
  for (const n of names) if (!have.has(n)) throw new PackError(`${rel} has no ${kind} "${n}" (diffusers ONNX layout expected)`);
}

const dimOf = (v: WireValueInfo | undefined, i: number): number | undefined => (typeof v?.shape[i] === 'number' ? v.shape[i] : undefined);

export function packNameOf(folder: string): string {
  const n = path.basename(folder).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);
  return n || 'diffusers-pack';
}

/** Inspect a diffusers folder and describe it (no writes). */
export async function inspectDiffusersFolder(srcDir: string, options: ImportOptions = {}): Promise<{ root: string; sidecar: DiffusersSidecar; files: string[]; graphs: Map<string, Graph>; backbone?: { pack: string; sha256: string } }> {
  const root = await fs.realpath(srcDir);
  const hasIndex = await exists(path.join(root, 'model_index.json'));
  const index = hasIndex ? modelIndexSchema.safeParse(await readJson(root, 'model_index.json')) : null;
  if (index && !index.success) throw new PackError(`model_index.json: ${index.error.issues[0]?.message ?? 'invalid'}`);
  const idx = index?.data ?? {};
  const listed = (k: string) => Array.isArray(idx[k]) && (idx[k] as unknown[]).some((x) => x !== null);
  const isControlnet = !(await exists(path.join(root, 'unet'))) && (await exists(path.join(root, 'controlnet', 'model.onnx')));
  if (!hasIndex && !isControlnet) throw new PackError('not a diffusers folder: model_index.json is missing');
  // Everything model_index.json lists that the engine uses must be there.
  for (const k of ['unet', 'text_encoder', 'tokenizer', 'scheduler', 'vae_encoder', 'vae_decoder', 'controlnet']) {
    if (listed(k) && !(await exists(path.join(root, k)))) throw new PackError(`model_index.json lists "${k}" but the folder has no ${k}/`);
  }
  if (listed('vae') && !(await exists(path.join(root, 'vae_decoder')))) throw new PackError('model_index.json lists "vae" but the folder has no vae_decoder/');

  const files: string[] = [];
  if (hasIndex) files.push('model_index.json');
  for (const d of COMPONENT_DIRS) if (await exists(path.join(root, d))) await listFiles(root, d, files);
  if (files.length + 1 > MAX_FILES) throw new PackError(`the pack has ${files.length} files; a pack may list at most ${MAX_FILES - 1} (re-export with all external tensors in one file)`);

  const graphs = new Map<string, Graph>();
  for (const f of files) if (f.endsWith('.onnx')) graphs.set(f, await graph(root, f));
  const externalFiles = new Set([...graphs.values()].flatMap((g) => g.externalData));
  for (const f of externalFiles) if (!files.includes(f)) throw new PackError(`external data "${f}" is not inside a component folder`);

  const compConfig = async (dir: string): Promise<Record<string, unknown>> => {
    const rel = `${dir}/config.json`;
    return (await exists(path.join(root, rel))) ? ((await readJson(root, rel)) as Record<string, unknown>) : {};
  };
  const num = (o: Record<string, unknown>, k: string): number | undefined => (typeof o[k] === 'number' ? o[k] : undefined);
  const entry = (rel: string) => ({ path: rel, externalData: graphs.get(rel)!.externalData });
  const requireGraph = (rel: string) => {
    if (!graphs.has(rel)) throw new PackError(`${rel} is missing`);
    return graphs.get(rel)!;
  };
  const guidance = { text: options.guidance?.text ?? 7.5, image: options.guidance?.image ?? 1.5 };

  if (isControlnet) {
    const g = requireGraph('controlnet/model.onnx');
    need(g.scan, g.rel, ['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond'], 'input');
    const residuals = controlnetResidualOutputs(g.scan.outputs.map((o) => o.name));
    if (residuals.down.length === 0 || residuals.mid === null) throw new PackError(`${g.rel} has no down_block_res_samples_* / mid_block_res_sample outputs`);
    let backbone: { pack: string; sha256: string } | undefined;
    if (options.backboneDir) {
      const bb = await verifyDiffusersPack(options.backboneDir, { hashes: false });
      const unet = bb.sidecar.unet;
      const file = bb.manifest.files.find((f) => f.path === unet?.path);
      if (!unet || !file) throw new PackError(`${options.backboneDir} is not a pipeline pack with a UNet`);
      if (unet.residuals.down.length !== residuals.down.length || (unet.residuals.mid === null) !== (residuals.mid === null)) {
        throw new PackError(`the ControlNet gives ${residuals.down.length} down residuals but the backbone UNet takes ${unet.residuals.down.length}`);
      }
      backbone = { pack: bb.manifest.name, sha256: file.sha256 };
    }
    const names = g.scan.inputs.map((i) => i.name);
    const sidecar: DiffusersSidecar = {
      format: 'codi-diffusers',
      version: 1,
      kind: 'controlnet',
      pipelineClass: typeof idx._class_name === 'string' ? idx._class_name : 'ControlNetModel',
      controlnet: { ...entry(g.rel), residuals, condName: 'controlnet_cond', scaleName: names.includes('conditioning_scale') ? 'conditioning_scale' : null },
      guidance,
    };
    return { root, sidecar, files, graphs, ...(backbone ? { backbone } : {}) };
  }

  const unet = requireGraph('unet/model.onnx');
  need(unet.scan, unet.rel, ['sample', 'timestep', 'encoder_hidden_states'], 'input');
  need(unet.scan, unet.rel, ['out_sample'], 'output');
  const unetCfg = await compConfig('unet');
  const inChannels = dimOf(unet.scan.inputs.find((i) => i.name === 'sample'), 1) ?? num(unetCfg, 'in_channels');
  if (!inChannels) throw new PackError('cannot tell the UNet input channels (neither the graph nor unet/config.json says)');
  const te = requireGraph('text_encoder/model.onnx');
  need(te.scan, te.rel, ['input_ids'], 'input');
  need(te.scan, te.rel, ['last_hidden_state'], 'output');
  const hiddenSize = dimOf(te.scan.outputs.find((o) => o.name === 'last_hidden_state'), 2) ?? num(await compConfig('text_encoder'), 'hidden_size');
  if (!hiddenSize) throw new PackError('cannot tell the text encoder width');
  const dec = requireGraph('vae_decoder/model.onnx');
  need(dec.scan, dec.rel, ['latent_sample'], 'input');
  need(dec.scan, dec.rel, ['sample'], 'output');
  const encRel = graphs.has('vae_encoder/model.onnx') ? 'vae_encoder/model.onnx' : null;
  if (encRel) {
    need(graphs.get(encRel)!.scan, encRel, ['sample'], 'input');
    need(graphs.get(encRel)!.scan, encRel, ['latent_sample'], 'output');
  }
  for (const f of ['tokenizer/vocab.json', 'tokenizer/merges.txt']) {
    if (!files.includes(f) && !files.includes('tokenizer/tokenizer.json')) throw new PackError(`${f} is missing (the CLIP tokenizer files are needed offline)`);
  }
  if (!files.includes('scheduler/scheduler_config.json')) throw new PackError('scheduler/scheduler_config.json is missing');
  let scheduler: SchedulerSpec;
  try {
    scheduler = schedulerSpec(await readJson(root, 'scheduler/scheduler_config.json'));
  } catch (err) {
    throw new PackError(`scheduler/scheduler_config.json: ${(err as Error).message}`);
  }
  const vaeCfg = { ...(await compConfig('vae_encoder')), ...(await compConfig('vae_decoder')) };
  const latentChannels = dimOf(dec.scan.inputs.find((i) => i.name === 'latent_sample'), 1) ?? num(vaeCfg, 'latent_channels') ?? 4;
  const tokCfg = files.includes('tokenizer/tokenizer_config.json') ? ((await readJson(root, 'tokenizer/tokenizer_config.json')) as Record<string, unknown>) : {};
  const maxLen = num(tokCfg, 'model_max_length');
  const tiny = graphs.get('vae_decoder_tiny/model.onnx');
  // A backbone exported for CoDi SD adapters: its feature inputs and μ, and their levels.
  const unetInputs = unet.scan.inputs.map((i) => i.name);
  const codi = codiAdapterNames(unetInputs);
  if (codi && (codi.features.length === 0 || !unetInputs.includes(codi.mu))) {
    throw new PackError(`${unet.rel} has CoDi adapter inputs but not both adapter_feature_0… and ${codi.mu}`);
  }
  const adapter = codi ? { ...codi, strides: adapterFeatureStrides(unet.scan.inputs, codi.features, unetCfg) } : undefined;
  const sidecar: DiffusersSidecar = {
    format: 'codi-diffusers',
    version: 1,
    kind: 'pipeline',
    pipelineClass: String(idx._class_name),
    unet: { ...entry(unet.rel), inChannels, residuals: unetResidualInputs(unetInputs), ...(adapter ? { adapter } : {}) },
    textEncoder: { ...entry(te.rel), hiddenSize },
    ...(encRel ? { vaeEncoder: entry(encRel) } : {}),
    vaeDecoder: entry(dec.rel),
    ...(tiny ? { vaeDecoderTiny: { ...entry(tiny.rel), scalingFactor: num(await compConfig('vae_decoder_tiny'), 'scaling_factor') ?? 1 } } : {}),
    tokenizer: { dir: 'tokenizer', maxLength: maxLen && maxLen <= 4096 ? maxLen : 77 },
    scheduler,
    vae: { scalingFactor: num(vaeCfg, 'scaling_factor') ?? 0.18215, factor: 8, latentChannels },
    guidance,
  };
  return { root, sidecar: sidecarSchema.parse(sidecar), files, graphs };
}

function roleOf(rel: string, sidecar: DiffusersSidecar): FileRole {
  if (rel === sidecar.unet?.path) return sidecar.unet.inChannels === (sidecar.vae?.latentChannels ?? 4) ? 'backbone' : 'denoiser';
  if (rel === sidecar.controlnet?.path) return 'adapter';
  if (rel === sidecar.textEncoder?.path) return 'text-encoder';
  if (rel === sidecar.vaeEncoder?.path) return 'vae-encoder';
  if (rel === sidecar.vaeDecoder?.path) return 'vae-decoder';
  return 'other';
}

function defaultTask(sidecar: DiffusersSidecar): PackTask {
  if (sidecar.kind === 'controlnet') return 'restore';
  const c = sidecar.unet!.inChannels - (sidecar.vae?.latentChannels ?? 4);
  return c === 5 ? 'inpaint' : c === 4 ? 'edit' : 'backbone';
}

/**
 * Import a diffusers ONNX folder. With `into`, the folder is copied (and hashed while copying)
 * to `<into>/<name>/` through a staging folder renamed into place; otherwise the manifest, the
 * sidecar and a model card are written beside the files (the folder name must be the pack name).
 */
export async function importDiffusersPack(srcDir: string, options: ImportOptions = {}): Promise<ImportResult> {
  const found = await inspectDiffusersFolder(srcDir, options);
  const { root, sidecar, files, graphs } = found;
  const name = options.name ?? packNameOf(root);
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new PackError(`"${name}" is not a valid pack name (lower-case letters, digits, . _ -)`);
  if (!options.into && path.basename(root) !== name) throw new PackError(`the folder is named "${path.basename(root)}" but the pack would be "${name}"; rename it or import with --into <packs folder>`);
  if (sidecar.kind === 'controlnet' && !found.backbone) throw new PackError('a ControlNet pack needs --backbone <imported pipeline pack folder>');
  if (options.upscale !== undefined && (!Number.isInteger(options.upscale) || options.upscale < 1 || options.upscale > 8)) throw new PackError('upscale must be an integer from 1 to 8');
  if (sidecar.scheduler?.prediction === 'x') throw new PackError('sample-prediction schedulers are not supported (manifest prediction is v or epsilon)');

  let dest = root;
  let staging: string | null = null;
  if (options.into) {
    await fs.mkdir(options.into, { recursive: true });
    dest = path.join(await fs.realpath(options.into), name);
    if (await exists(dest)) throw new PackError(`a pack folder "${name}" already exists in ${options.into}`);
    staging = path.join(path.dirname(dest), `.${name}.importing-${randomBytes(4).toString('hex')}`);
    await fs.mkdir(staging);
  }
  try {
    const out = staging ?? dest;
    const packFiles: PackFile[] = [];
    for (const rel of files) {
      let copyTo: string | undefined;
      if (staging) {
        copyTo = path.join(staging, rel);
        await fs.mkdir(path.dirname(copyTo), { recursive: true });
      }
      const { sha256, bytes } = await hashFile(path.join(root, rel), copyTo);
      const g = graphs.get(rel);
      packFiles.push({
        path: rel,
        role: roleOf(rel, sidecar),
        sha256,
        bytes,
        ...(g ? { inputs: g.scan.inputs.map(signature), outputs: g.scan.outputs.map(signature) } : {}),
      });
    }
    const sidecarText = JSON.stringify(sidecar, null, 2) + '\n';
    await writeAtomic(path.join(out, SIDECAR), sidecarText);
    packFiles.push({ path: SIDECAR, role: 'other', sha256: createHash('sha256').update(sidecarText).digest('hex'), bytes: Buffer.byteLength(sidecarText) });

    const task = options.task ?? defaultTask(sidecar);
    const sch = sidecar.scheduler;
    const lcm = sch?.sampler === 'lcm';
    const ehs = sidecar.controlnet ? [...graphs.get(sidecar.controlnet.path)!.scan.inputs].find((i) => i.name === 'encoder_hidden_states') : undefined;
    const manifest = manifestSchema.parse({
      schema: 1,
      name,
      version: options.version ?? '1',
      title: options.title ?? `${sidecar.pipelineClass} (${name})`,
      task,
      method: sidecar.kind === 'controlnet' ? 'pe-codi' : lcm ? 'cm' : 'pretrain',
      prediction: sch?.prediction === 'v' ? 'v' : 'epsilon',
      schedule: sch?.schedule ?? { kind: 'scaled-linear', trainSteps: 1000 },
      sampler: lcm
        ? { kind: 'codi-renoise', steps: 4, maxSteps: 8, distillSteps: sch?.originalSteps ?? 50 }
        : { kind: sch?.sampler === 'dpmpp-2m' ? 'dpmpp-2m' : 'ddim', steps: 25, maxSteps: 100 },
      latent: { kind: 'autoencoder', factor: sidecar.vae?.factor ?? 8, channels: sidecar.vae?.latentChannels ?? 4, scale: sidecar.vae?.scalingFactor ?? 0.18215 },
      conditionChannels: sidecar.kind === 'controlnet' ? 3 : Math.max(0, sidecar.unet!.inChannels - (sidecar.vae?.latentChannels ?? 4)),
      textEmbeddingDim: sidecar.textEncoder?.hiddenSize ?? dimOf(ehs, 2) ?? 0,
      upscale: options.upscale ?? 1,
      tile: { size: 512, overlap: 64 },
      ...(found.backbone ? { backbone: found.backbone } : {}),
      files: packFiles,
      modelCard: MODEL_CARD,
      ...(options.source ? { source: options.source } : {}),
    });
    if (!(await exists(path.join(out, MODEL_CARD)))) {
      await writeAtomic(
        path.join(out, MODEL_CARD),
        `# ${manifest.title}\n\nImported from a diffusers ONNX folder (${sidecar.pipelineClass}).\n\n- task: ${task}\n- files: ${packFiles.length}\n- prediction: ${manifest.prediction}, scheduler: ${sch?.className ?? 'n/a'}\n\nLicence and provenance: see the original model's card.\n`,
      );
    }
    await writeAtomic(path.join(out, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    if (staging) await fs.rename(staging, dest);
    return { dir: dest, manifest, sidecar };
  } catch (err) {
    if (staging) await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}

export interface VerifiedDiffusersPack {
  root: string;
  manifest: PackManifest;
  sidecar: DiffusersSidecar;
}

/** True when `dir` holds an imported diffusers pack (has the sidecar). */
export async function isDiffusersPack(dir: string): Promise<boolean> {
  return exists(path.join(dir, SIDECAR));
}

/**
 * Re-check an imported pack: manifest and sidecar parse, every sidecar path is a manifest file,
 * every file is inside the pack with its recorded size and (unless `hashes: false`) sha256.
 */
export async function verifyDiffusersPack(dir: string, options: { hashes?: boolean } = {}): Promise<VerifiedDiffusersPack> {
  const root = await fs.realpath(dir);
  const mPath = await resolveInsidePack(root, MANIFEST);
  const manifest = parseManifest(await fs.readFile(mPath, 'utf8'));
  const sideFile = manifest.files.find((f) => f.path === SIDECAR);
  if (!sideFile) throw new PackError(`manifest.json does not list ${SIDECAR}`);
  const byPath = new Map(manifest.files.map((f) => [f.path, f]));
  for (const f of manifest.files) {
    const abs = await resolveInsidePack(root, f.path);
    const st = await fs.stat(abs);
    if (st.size !== f.bytes) throw new PackError(`"${f.path}" has ${st.size} bytes but the manifest says ${f.bytes} (truncated or replaced file)`);
    if (options.hashes !== false) {
      const { sha256 } = await hashFile(abs);
      if (sha256 !== f.sha256) throw new PackError(`"${f.path}" failed its checksum (sha256 ${sha256.slice(0, 12)}…, manifest ${f.sha256.slice(0, 12)}…): the file is corrupt or was modified`);
    }
  }
  const sidecar = parseSidecar(await fs.readFile(await resolveInsidePack(root, SIDECAR), 'utf8'));
  const graphs = [sidecar.unet, sidecar.textEncoder, sidecar.vaeEncoder, sidecar.vaeDecoder, sidecar.vaeDecoderTiny, sidecar.controlnet, sidecar.codiAdapter].filter((g) => g !== undefined);
  for (const g of graphs) {
    for (const p of [g.path, ...g.externalData]) if (!byPath.has(p)) throw new PackError(`${SIDECAR} names "${p}", which the manifest does not list`);
  }
  if (sidecar.tokenizer && ![...byPath.keys()].some((p) => p.startsWith(`${sidecar.tokenizer!.dir}/`))) throw new PackError('the tokenizer files are not listed in the manifest');
  return { root, manifest, sidecar };
}
