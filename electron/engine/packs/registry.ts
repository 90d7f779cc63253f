/**
 * Pack registry: finds packs (native-models/ and the user packs folder), parses and checks
 * each manifest, and loads a pack's graphs into ORT sessions only after every byte has been
 * verified. A broken pack is listed as invalid with its reason; it never breaks the others.
 */
import { promises as fs } from 'node:fs';
import { INSTRUCTION_FEATURE_DIM, instructionFeatures } from '../../../core/text/instruction-features.ts';
import type { KnownInstruction } from '../../../core/text/instruction-features.ts';
import path from 'node:path';
import { chooseDenoiser, parsePrecision } from '../../../core/packs/graph-choice.ts';
import type { PrecisionPreference } from '../../../core/packs/graph-choice.ts';
import { parseManifest } from '../../../core/packs/manifest.ts';
import type { PackFile, PackManifest } from '../../../core/packs/manifest.ts';
import { measuredSteps } from '../../../core/packs/measured-steps.ts';
import type { PackInfo } from '../../contract/schemas.ts';
import { SIDECAR } from '../diffusers/config.ts';
import { verifyDiffusersPack } from '../diffusers/import.ts';
import { loadControlNet, loadDiffusersPipeline } from '../diffusers/pipeline.ts';
import type { ControlNetModel, DiffusersPipelineModel } from '../diffusers/pipeline.ts';
import { loadCodiAdapter } from '../diffusers/codi-pipeline.ts';
import type { CodiAdapterModel } from '../diffusers/codi-pipeline.ts';
import { CODI_ADAPTER_GRAPH } from '../diffusers/codi-adapter.ts';
import type { LoadedSession, OrtRuntime } from '../ort.ts';
import { checkGraphBytes, checkSessionIO, checkSizes, PackError, readVerified, resolveInsidePack } from './verify.ts';

export interface PackDir {
  path: string;
  source: 'bundled' | 'user';
}

export interface PackRecord {
  name: string;
  /** Realpath of the pack folder. */
  root: string;
  source: 'bundled' | 'user';
  manifest?: PackManifest;
  /** An imported diffusers-layout (Stable-Diffusion-class) pack: it carries codi-diffusers.json. */
  diffusers?: boolean;
  status: 'ok' | 'invalid';
  problem?: string;
}

/** Graphs of a usable pack: one fused denoiser, or a PE-CoDi adapter on its backbone. */
export type PackModel =
  | {
      kind: 'denoiser';
      manifest: PackManifest;
      denoiser: LoadedSession;
      /** Which of the pack's denoiser graphs runs, and why (core/packs/graph-choice.ts); absent in test fakes. */
      graph?: string;
      instructions: InstructionTable | null;
    }
  | {
      kind: 'adapter';
      manifest: PackManifest;
      adapter: LoadedSession;
      backbone: LoadedSession;
      instructions: InstructionTable | null;
    }
  | { kind: 'backbone'; manifest: PackManifest; backbone: LoadedSession; instructions: null }
  | {
      /** A diffusers pipeline; ControlNet packs share their backbone pack's loaded pipeline. */
      kind: 'diffusers';
      manifest: PackManifest;
      pipeline: DiffusersPipelineModel;
      controlnet: ControlNetModel | null;
      /** A CoDi SD adapter pack: its adapter graph feeds the backbone pipeline's UNet. */
      codi: CodiAdapterModel | null;
      instructions: null;
    };

/** Known instructions of an edit pack and their embedding vectors. */
export interface InstructionTable {
  dim: number;
  entries: Map<string, Float32Array>;
  /**
   * Set when the pack was trained on core/text/instruction-features.ts features: then ANY text can
   * be embedded, and `known` (the training wordings and their edits) decides whether a request is
   * close enough to what the model learned.
   */
  featurizer?: {
    name: typeof INSTRUCTION_FEATURIZER;
    known: KnownInstruction[];
    /** Edits whose training targets are all grey: their results are made grey (native-backend.ts). */
    achromatic: ReadonlySet<string>;
  };
}

/** The featurizer name training writes into instruction tables (training/cli/pack-export.ts). */
export const INSTRUCTION_FEATURIZER = 'hashed-trigram-v1';

const MANIFEST = 'manifest.json';
const MAX_MANIFEST_BYTES = 1024 * 1024;

export class PackRegistry {
  private records: PackRecord[] = [];
  private readonly models = new Map<string, Promise<PackModel>>();

  constructor(
    private readonly dirs: readonly PackDir[],
    private readonly runtime: OrtRuntime,
    /** 'int8': run a pack's int8 denoiser where it has one, on the CPU provider (CODI_PRECISION=int8). */
    private readonly precision: PrecisionPreference = parsePrecision(process.env.CODI_PRECISION),
  ) {}

  /** (Re)scan the folders. Cheap: manifests, containment and sizes; hashes are checked on load. */
  async scan(): Promise<PackRecord[]> {
    const found: PackRecord[] = [];
    for (const dir of this.dirs) {
      let entries: string[];
      try {
        // Dot-folders are skipped: `codi import` stages a pack in `.<name>.importing-*` before renaming it.
        entries = (await fs.readdir(dir.path, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
      } catch {
        continue; // a missing user folder is normal
      }
      const dirRoot = await fs.realpath(dir.path);
      for (const name of entries.sort()) {
        const root = path.join(dirRoot, name);
        try {
          await fs.access(path.join(root, MANIFEST));
        } catch {
          continue; // not a pack folder
        }
        found.push(await inspectPack(root, name, dir.source));
      }
    }
    // Names must be unique; the first (bundled before user) wins.
    const seen = new Set<string>();
    for (const r of found) {
      if (r.status === 'ok' && seen.has(r.name)) {
        r.status = 'invalid';
        r.problem = `another pack named "${r.name}" is already installed`;
      }
      if (r.status === 'ok') seen.add(r.name);
    }
    // Adapter packs need their backbone pack, pinned by the backbone file's sha256.
    for (const r of found) {
      const bb = r.manifest?.backbone;
      if (r.status !== 'ok' || !bb) continue;
      const target = found.find((x) => x.status === 'ok' && x.name === bb.pack);
      const file = target?.manifest?.files.find((f) => f.role === 'backbone');
      if (!target || !file) {
        r.status = 'invalid';
        r.problem = `needs the backbone pack "${bb.pack}", which is not installed`;
      } else if (file.sha256 !== bb.sha256) {
        r.status = 'invalid';
        r.problem = `was trained for a different version of the backbone pack "${bb.pack}" (sha256 mismatch)`;
      }
    }
    this.records = found;
    this.models.clear();
    return found;
  }

  list(): readonly PackRecord[] {
    return this.records;
  }

  get(name: string): PackRecord | undefined {
    return this.records.find((r) => r.name === name && r.status === 'ok') ?? this.records.find((r) => r.name === name);
  }

  /**
   * Load (once) and return the verified graphs of a pack. A pack that fails verification on
   * load (e.g. a same-size file with another sha256) is listed as invalid from then on, with
   * the reason, until the next scan.
   */
  load(name: string): Promise<PackModel> {
    let p = this.models.get(name);
    if (!p) {
      p = this.loadUncached(name);
      this.models.set(name, p);
      p.catch((err: unknown) => {
        if (this.models.get(name) === p) this.models.delete(name);
        const rec = this.get(name);
        if (err instanceof PackError && rec && rec.status === 'ok') {
          rec.status = 'invalid';
          rec.problem = err.message;
        }
      });
    }
    return p;
  }

  private async loadUncached(name: string): Promise<PackModel> {
    const rec = this.get(name);
    if (!rec) throw new PackError(`no pack named "${name}" is installed`);
    if (rec.status !== 'ok' || !rec.manifest) throw new PackError(`pack "${name}" cannot be used: ${rec.problem ?? 'invalid'}`);
    const m = rec.manifest;
    if (rec.diffusers) return this.loadDiffusers(rec, m);
    const session = async (root: string, file: PackFile): Promise<LoadedSession> => {
      const bytes = await readVerified(root, file);
      checkGraphBytes(file, bytes);
      const s = await this.runtime.load(file.sha256, bytes);
      checkSessionIO(file, s);
      return s;
    };
    const table = m.files.find((f) => f.role === 'instruction-table');
    const instructions = table ? parseInstructionTable(await readVerified(rec.root, table), m.textEmbeddingDim) : null;
    const denoiser = chooseDenoiser(m.files, this.runtime.providerInfo().active, this.precision);
    const adapter = m.files.find((f) => f.role === 'adapter');
    // the note names the graph only where the pack has more than one to choose from
    const graph = m.files.filter((f) => f.role === 'denoiser').length > 1 && denoiser ? { graph: `${denoiser.file.path}: ${denoiser.why}` } : {};
    if (denoiser) return { kind: 'denoiser', manifest: m, denoiser: await session(rec.root, denoiser.file), ...graph, instructions };
    if (adapter) {
      if (!m.backbone) throw new PackError(`pack "${name}" has an adapter but names no backbone pack`);
      const bbRec = this.get(m.backbone.pack);
      const bbFile = bbRec?.manifest?.files.find((f) => f.role === 'backbone');
      if (!bbRec || bbRec.status !== 'ok' || !bbFile) throw new PackError(`pack "${name}" needs backbone pack "${m.backbone.pack}"`);
      if (bbFile.sha256 !== m.backbone.sha256) throw new PackError(`pack "${name}": backbone "${m.backbone.pack}" sha256 mismatch`);
      return {
        kind: 'adapter',
        manifest: m,
        adapter: await session(rec.root, adapter),
        backbone: await session(bbRec.root, bbFile),
        instructions,
      };
    }
    const backbone = m.files.find((f) => f.role === 'backbone');
    if (backbone) return { kind: 'backbone', manifest: m, backbone: await session(rec.root, backbone), instructions: null };
    throw new PackError(`pack "${name}" has no denoiser, adapter or backbone graph`);
  }

  /**
   * A diffusers pipeline pack, or a ControlNet pack on the pipeline of its backbone pack. The
   * backbone is loaded through {@link load}, so every ControlNet pinned to it shares the one
   * loaded pipeline (UNet, text encoder, VAE) instead of reading and verifying it again.
   */
  private async loadDiffusers(rec: PackRecord, m: PackManifest): Promise<PackModel> {
    if (!m.backbone) {
      const pipeline = await loadDiffusersPipeline(rec.root, this.runtime);
      return { kind: 'diffusers', manifest: m, pipeline, controlnet: null, codi: null, instructions: null };
    }
    let backbone: PackModel;
    try {
      backbone = await this.load(m.backbone.pack);
    } catch (err) {
      throw new PackError(`its backbone pack "${m.backbone.pack}" cannot be used: ${(err as Error).message}`);
    }
    if (backbone.kind !== 'diffusers' || backbone.controlnet || backbone.codi) {
      throw new PackError(`pack "${m.name}" needs a diffusers pipeline pack as backbone; "${m.backbone.pack}" is not one`);
    }
    if (m.files.some((f) => f.path === CODI_ADAPTER_GRAPH)) {
      const codi = await loadCodiAdapter(rec.root, this.runtime, backbone.pipeline);
      return { kind: 'diffusers', manifest: m, pipeline: backbone.pipeline, controlnet: null, codi, instructions: null };
    }
    const controlnet = await loadControlNet(rec.root, this.runtime, backbone.pipeline);
    return { kind: 'diffusers', manifest: m, pipeline: backbone.pipeline, controlnet, codi: null, instructions: null };
  }
}

/** Parse, contain and size-check one pack folder; never throws. */
export async function inspectPack(root: string, folderName: string, source: 'bundled' | 'user'): Promise<PackRecord> {
  const rec: PackRecord = { name: folderName, root, source, status: 'invalid' };
  try {
    const manifestPath = await resolveInsidePack(root, MANIFEST);
    const st = await fs.stat(manifestPath);
    if (st.size > MAX_MANIFEST_BYTES) throw new PackError(`manifest.json is too large (${st.size} bytes)`);
    const manifest = parseManifest(await fs.readFile(manifestPath, 'utf8'));
    rec.name = manifest.name;
    if (manifest.name !== folderName) {
      throw new PackError(`manifest name "${manifest.name}" does not match its folder "${folderName}"`);
    }
    await resolveInsidePack(root, manifest.modelCard);
    await checkSizes(root, manifest.files);
    const diffusers = manifest.files.some((f) => f.path === SIDECAR) || (await exists(path.join(root, SIDECAR)));
    if (diffusers) {
      await checkDiffusersPack(root, manifest);
      rec.diffusers = true;
    } else {
      if (manifest.task !== 'backbone' && !manifest.files.some((f) => f.role === 'denoiser' || f.role === 'adapter')) {
        throw new PackError(`a ${manifest.task} pack needs a denoiser or an adapter graph`);
      }
      if (manifest.latent.kind !== 'pixel-unshuffle') {
        throw new PackError(`latent codec "${manifest.latent.kind}" is not supported by this engine`);
      }
    }
    if (manifest.files.some((f) => f.role === 'adapter') && !manifest.backbone) {
      throw new PackError('an adapter pack must name its backbone pack');
    }
    rec.manifest = manifest;
    rec.status = 'ok';
  } catch (err) {
    rec.problem = err instanceof PackError || err instanceof Error ? err.message : String(err);
  }
  return rec;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Listing checks of a diffusers pack (sizes, sidecar ↔ manifest; sha256 is checked on load) and
 * whether its graphs can serve its task: inpaint needs a 4- or 9-channel UNet, edit an
 * InstructPix2Pix (8-channel) UNet, restore a ControlNet on a backbone pack.
 */
async function checkDiffusersPack(root: string, manifest: PackManifest): Promise<void> {
  if (manifest.latent.kind !== 'autoencoder') throw new PackError(`a diffusers pack must use the autoencoder latent codec, not "${manifest.latent.kind}"`);
  const { sidecar } = await verifyDiffusersPack(root, { hashes: false });
  const task = manifest.task;
  if (sidecar.kind === 'controlnet') {
    if (task !== 'restore') throw new PackError(`a diffusers ControlNet pack can serve restore, not ${task}`);
    if (!manifest.backbone) throw new PackError('a ControlNet pack must name its backbone pack');
    return;
  }
  if (sidecar.kind === 'codi-adapter') {
    if (task !== sidecar.codiAdapter?.task) throw new PackError(`a CoDi ${sidecar.codiAdapter?.task ?? '?'} adapter pack cannot serve ${task}`);
    if (!manifest.backbone) throw new PackError('a CoDi adapter pack must name its backbone pack');
    return;
  }
  const latentC = sidecar.vae?.latentChannels ?? manifest.latent.channels;
  const extra = (sidecar.unet?.inChannels ?? latentC) - latentC;
  const ok = task === 'backbone' || (task === 'inpaint' && (extra === 0 || extra === latentC + 1)) || (task === 'edit' && extra === latentC);
  if (!ok) {
    const unet = `a ${latentC + extra}-channel UNet`;
    const need = task === 'inpaint' ? `an inpainting (${2 * latentC + 1}-channel) or plain (${latentC}-channel) UNet` : task === 'edit' ? `an InstructPix2Pix (${2 * latentC}-channel) UNet` : 'a ControlNet pack on a backbone pack';
    throw new PackError(`a diffusers ${task} pack needs ${need}; this one has ${unet}`);
  }
}

/** Lower-case, trim and collapse spaces: how instructions are matched. */
export function normalizeInstruction(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, ' ').replace(/[.!]+$/, '');
}

/**
 * Instruction table JSON: `{"dim": D, "instructions": [{"text": "...", "embedding": [D numbers]}]}`
 * or a plain object `{"make it dark": [D numbers], …}`.
 */
export function parseInstructionTable(bytes: Uint8Array, dim: number): InstructionTable {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new PackError('the instruction table is not valid JSON');
  }
  const pairs: [string, unknown][] = [];
  if (raw && typeof raw === 'object' && Array.isArray((raw as { instructions?: unknown }).instructions)) {
    for (const item of (raw as { instructions: unknown[] }).instructions) {
      const it = item as { text?: unknown; embedding?: unknown };
      if (typeof it.text !== 'string') throw new PackError('instruction table entry without text');
      pairs.push([it.text, it.embedding]);
    }
  } else if (raw && typeof raw === 'object') {
    if ((raw as { featurizer?: unknown }).featurizer === undefined) {
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) if (k !== 'dim') pairs.push([k, v]);
    }
  } else {
    throw new PackError('the instruction table must be a JSON object');
  }
  const entries = new Map<string, Float32Array>();
  const table: InstructionTable = { dim, entries };
  const rawObj = raw as { featurizer?: unknown; dim?: unknown; known?: unknown };
  if (rawObj.featurizer !== undefined) {
    if (rawObj.featurizer !== INSTRUCTION_FEATURIZER) throw new PackError(`unknown instruction featurizer "${String(rawObj.featurizer)}"`);
    if (rawObj.dim !== dim || dim !== INSTRUCTION_FEATURE_DIM) throw new PackError(`the instruction featurizer gives ${INSTRUCTION_FEATURE_DIM} values; the pack takes ${dim}`);
    const known = Array.isArray(rawObj.known) ? rawObj.known : [];
    const list: KnownInstruction[] = [];
    for (const k of known) {
      const it = k as { text?: unknown; edit?: unknown };
      if (typeof it.text !== 'string' || typeof it.edit !== 'string') throw new PackError('instruction table: every known entry needs text and edit');
      list.push({ text: it.text, edit: it.edit });
    }
    if (list.length === 0) throw new PackError('instruction table: no known instructions');
    const achromatic = (raw as { achromatic?: unknown }).achromatic ?? [];
    if (!Array.isArray(achromatic) || achromatic.some((e) => typeof e !== 'string' || !list.some((k) => k.edit === e))) {
      throw new PackError('instruction table: "achromatic" must list edits among the known ones');
    }
    table.featurizer = { name: INSTRUCTION_FEATURIZER, known: list, achromatic: new Set(achromatic as string[]) };
    for (const k of list) entries.set(normalizeInstruction(k.text), instructionFeatures(k.text, dim));
  }
  for (const [text, emb] of pairs) {
    if (!Array.isArray(emb) || emb.length !== dim || emb.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new PackError(`instruction "${text}": embedding must be ${dim} finite numbers`);
    }
    entries.set(normalizeInstruction(text), Float32Array.from(emb as number[]));
  }
  return table;
}

/** The contract's view of a pack record. */
export function toPackInfo(rec: PackRecord, instructions: readonly string[] = []): PackInfo {
  const m = rec.manifest;
  if (!m) {
    return {
      name: /^[a-z0-9][a-z0-9._-]{0,63}$/.test(rec.name) ? rec.name : 'invalid-pack',
      title: rec.name,
      version: '?',
      task: 'custom',
      method: '?',
      source: rec.source,
      steps: { default: 1, max: 1 },
      upscale: 1,
      takesText: false,
      instructions: [],
      status: 'invalid',
      problem: rec.problem ?? 'invalid pack',
    };
  }
  return {
    name: m.name,
    title: m.title,
    version: m.version,
    task: m.task,
    method: m.method,
    source: rec.source,
    steps: { default: m.sampler.steps, max: m.sampler.maxSteps },
    ...(m.sampler.temperature !== undefined ? { startTemperature: m.sampler.temperature } : {}),
    upscale: m.upscale,
    takesText: m.textEmbeddingDim > 0,
    instructions: [...instructions],
    status: rec.status,
    ...(rec.problem ? { problem: rec.problem } : {}),
    ...(m.backbone ? { backbone: m.backbone.pack } : {}),
    bytes: m.files.reduce((sum, f) => sum + f.bytes, 0),
    ...(m.source ? { origin: { repo: m.source.repo, revision: m.source.revision, licence: m.source.licence } } : {}),
    measured: measuredSteps(m),
  };
}
