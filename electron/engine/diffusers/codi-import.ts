/**
 * Import of a CoDi SD export: a diffusers ONNX folder whose unet/model.onnx takes the adapter's
 * features and μ, plus codi_adapter/ (the adapter graph and codi_adapter.json). It installs two
 * packs: the backbone pipeline pack (or reuses an installed pack with the very same UNet), and
 * the adapter pack pinned to it by the sha256 of unet/model.onnx. A backbone whose UNet is not
 * the one the adapter was trained on is refused before anything is written.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { manifestSchema } from '../../../core/packs/manifest.ts';
import type { PackFile } from '../../../core/packs/manifest.ts';
import { PackError, resolveInsidePack } from '../packs/verify.ts';
import { codiAdapterNames, SIDECAR, sidecarSchema } from './config.ts';
import type { DiffusersSidecar } from './config.ts';
import { CODI_ADAPTER_DIR, CODI_ADAPTER_GRAPH, CODI_ADAPTER_JSON, parseCodiAdapterJson } from './codi-adapter.ts';
import type { CodiAdapterJson } from './codi-adapter.ts';
import { exists, graph, hashFile, importDiffusersPack, listFiles, MANIFEST, MODEL_CARD, packNameOf, signature, verifyDiffusersPack, writeAtomic } from './import.ts';
import type { ImportOptions, ImportResult, VerifiedDiffusersPack } from './import.ts';

/** Steps a CoDi adapter may run: the sampler of docs/method.md §7.1 is distilled for 1–4. */
const CODI_MAX_STEPS = 4;
const UNET = 'unet/model.onnx';

/** True when `dir` is a CoDi SD export (has codi_adapter/codi_adapter.json). */
export async function isCodiSdExport(dir: string): Promise<boolean> {
  return exists(path.join(dir, CODI_ADAPTER_JSON));
}

export interface CodiImportResult {
  adapter: ImportResult;
  backbone: { dir: string; name: string; reused: boolean };
}

const short = (sha: string) => `${sha.slice(0, 12)}…`;

/** The UNet file of an imported pipeline pack. */
function unetFileOf(bb: VerifiedDiffusersPack): PackFile | undefined {
  return bb.sidecar.kind === 'pipeline' ? bb.manifest.files.find((f) => f.path === bb.sidecar.unet?.path) : undefined;
}

/** An installed pipeline pack in `packsDir` whose UNet has this sha256, if any. */
async function findInstalledBackbone(packsDir: string, unetSha: string): Promise<VerifiedDiffusersPack | null> {
  let names: string[];
  try {
    names = (await fs.readdir(packsDir)).sort();
  } catch {
    return null;
  }
  for (const n of names) {
    if (n.startsWith('.')) continue;
    try {
      const bb = await verifyDiffusersPack(path.join(packsDir, n), { hashes: false });
      if (unetFileOf(bb)?.sha256 === unetSha) return bb;
    } catch {
      // not a usable diffusers pack: not a candidate
    }
  }
  return null;
}

/** The adapter graph's IO must be the contract's, with as many features as the backbone takes. */
async function checkAdapterGraph(root: string, info: CodiAdapterJson) {
  const g = await graph(root, CODI_ADAPTER_GRAPH);
  const inputs = g.scan.inputs.map((i) => i.name);
  for (const n of ['sample', 'timestep', 'encoder_hidden_states', 'condition']) {
    if (!inputs.includes(n)) throw new PackError(`${CODI_ADAPTER_GRAPH} has no input "${n}" (CoDi SD adapter layout expected)`);
  }
  const outNames = g.scan.outputs.map((o) => o.name);
  const out = codiAdapterNames(outNames);
  if (!out || !outNames.includes(out.mu) || out.features.length !== info.mixPoints) {
    throw new PackError(`${CODI_ADAPTER_GRAPH} must output adapter_feature_0 … adapter_feature_${info.mixPoints - 1} and adapter_mu (codi_adapter.json says ${info.mixPoints} mix points)`);
  }
  const cc = g.scan.inputs.find((i) => i.name === 'condition')?.shape[1];
  if (typeof cc === 'number' && cc !== info.condition.channels) {
    throw new PackError(`${CODI_ADAPTER_GRAPH} takes a ${cc}-channel condition but codi_adapter.json says ${info.condition.channels}`);
  }
  return { graph: g, features: out.features, mu: out.mu };
}

export interface CodiImportOptions extends ImportOptions {
  /** Where installed backbones are looked for (default `into`): a pull imports into a private folder first. */
  installedIn?: string;
}

/**
 * Import a CoDi SD export into `options.into` (the packs folder): the backbone pipeline pack
 * (`--backbone` names an installed one; else an installed pack with the same UNet is reused, or
 * the export's own pipeline is imported as `<name>-backbone`) and the adapter pack `<name>`.
 */
export async function importCodiSdExport(srcDir: string, options: CodiImportOptions): Promise<CodiImportResult> {
  const root = await fs.realpath(srcDir);
  if (!options.into) throw new PackError('a CoDi SD export is imported into a packs folder (--into <dir> or the user packs folder), not in place');
  const info = parseCodiAdapterJson(await fs.readFile(await resolveInsidePack(root, CODI_ADAPTER_JSON), 'utf8'));
  const name = options.name ?? packNameOf(root);
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new PackError(`"${name}" is not a valid pack name (lower-case letters, digits, . _ -)`);
  if (options.task && options.task !== info.task) throw new PackError(`the adapter was trained for ${info.task}, not ${options.task}`);
  if (options.upscale !== undefined && (info.task !== 'restore' || !Number.isInteger(options.upscale) || options.upscale < 1 || options.upscale > 8)) {
    throw new PackError('--upscale applies to a restore adapter and must be an integer from 1 to 8');
  }
  await fs.mkdir(options.into, { recursive: true });
  const into = await fs.realpath(options.into);
  const dest = path.join(into, name);
  if (await exists(dest)) throw new PackError(`a pack folder "${name}" already exists in ${options.into}`);

  // The export must be one piece: its own UNet is the one the adapter was trained on.
  const own = await hashFile(await resolveInsidePack(root, UNET));
  if (own.sha256 !== info.backboneUnetSha256) {
    throw new PackError(`codi_adapter/ was trained on a backbone UNet with sha256 ${short(info.backboneUnetSha256)}, but this folder's ${UNET} has sha256 ${short(own.sha256)}: the folder mixes files of different exports`);
  }
  const adapterGraph = await checkAdapterGraph(root, info);

  // --- the backbone pack: named, found by its UNet, or imported from the export
  let bb: VerifiedDiffusersPack;
  let reused = true;
  if (options.backboneDir) {
    bb = await verifyDiffusersPack(options.backboneDir, { hashes: false });
    const f = unetFileOf(bb);
    if (!f) throw new PackError(`"${bb.manifest.name}" is not a diffusers pipeline pack with a UNet`);
    if (f.sha256 !== info.backboneUnetSha256) {
      throw new PackError(`backbone pack "${bb.manifest.name}" has a different UNet (sha256 ${short(f.sha256)}) from the one this adapter was trained on (${short(info.backboneUnetSha256)}); import without --backbone to install the export's own backbone`);
    }
  } else {
    const found = await findInstalledBackbone(options.installedIn ?? into, info.backboneUnetSha256);
    if (found) bb = found;
    else {
      const { guidance, title, source } = options;
      const r = await importDiffusersPack(root, { into, name: `${name}-backbone`, task: 'backbone', ...(guidance ? { guidance } : {}), ...(title ? { title: `${title} (backbone)` } : {}), ...(source ? { source } : {}) });
      bb = { root: r.dir, manifest: r.manifest, sidecar: r.sidecar };
      reused = false;
    }
  }
  try {
    const adapter = await installAdapter(root, into, name, info, bb, adapterGraph, options);
    return { adapter, backbone: { dir: bb.root, name: bb.manifest.name, reused } };
  } catch (err) {
    // Nothing half-installed: a backbone imported for this adapter goes with it.
    if (!reused) await fs.rm(bb.root, { recursive: true, force: true });
    throw err;
  }
}

async function installAdapter(root: string, into: string, name: string, info: CodiAdapterJson, bb: VerifiedDiffusersPack, adapterGraph: Awaited<ReturnType<typeof checkAdapterGraph>>, options: ImportOptions): Promise<ImportResult> {
  const dest = path.join(into, name);
  const unet = bb.sidecar.unet;
  const unetFile = unetFileOf(bb);
  if (!unet?.adapter || !unetFile) throw new PackError(`the UNet of backbone pack "${bb.manifest.name}" has no adapter_feature_* / adapter_mu inputs`);
  if (unet.adapter.features.join() !== adapterGraph.features.join() || unet.adapter.mu !== adapterGraph.mu) {
    throw new PackError(`the adapter outputs ${adapterGraph.features.length} features but the backbone UNet takes ${unet.adapter.features.length}`);
  }
  const bbPrediction = bb.sidecar.scheduler?.prediction;
  const prediction = info.predictionType === 'v_prediction' ? 'v' : 'epsilon';
  if (bbPrediction !== prediction) throw new PackError(`the adapter was trained for ${info.predictionType} but the backbone's scheduler predicts ${bbPrediction ?? 'nothing'}`);
  const hidden = bb.sidecar.textEncoder?.hiddenSize;
  if (!hidden || !bb.sidecar.vaeEncoder) throw new PackError(`backbone pack "${bb.manifest.name}" needs a text encoder and a VAE encoder for CoDi tools`);

  // --- the adapter pack, staged and renamed into place
  const staging = path.join(into, `.${name}.importing-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(staging);
  try {
    const rels: string[] = [];
    await listFiles(root, CODI_ADAPTER_DIR, rels);
    for (const ext of adapterGraph.graph.externalData) if (!rels.includes(ext)) throw new PackError(`external data "${ext}" of ${CODI_ADAPTER_GRAPH} is not inside ${CODI_ADAPTER_DIR}/`);
    const files: PackFile[] = [];
    for (const rel of rels) {
      const copyTo = path.join(staging, rel);
      await fs.mkdir(path.dirname(copyTo), { recursive: true });
      const { sha256, bytes } = await hashFile(path.join(root, rel), copyTo);
      const g = rel === CODI_ADAPTER_GRAPH ? adapterGraph.graph : null;
      files.push({ path: rel, role: g ? 'adapter' : 'other', sha256, bytes, ...(g ? { inputs: g.scan.inputs.map(signature), outputs: g.scan.outputs.map(signature) } : {}) });
    }
    const sidecar: DiffusersSidecar = sidecarSchema.parse({
      format: 'codi-diffusers',
      version: 1,
      kind: 'codi-adapter',
      pipelineClass: 'CoDiSDAdapter',
      codiAdapter: {
        path: CODI_ADAPTER_GRAPH,
        externalData: adapterGraph.graph.externalData,
        task: info.task,
        conditionName: 'condition',
        conditionChannels: info.condition.channels,
        features: adapterGraph.features,
        mu: adapterGraph.mu,
        distillSteps: info.sampler.N,
      },
      guidance: bb.sidecar.guidance,
    });
    const sidecarText = JSON.stringify(sidecar, null, 2) + '\n';
    await writeAtomic(path.join(staging, SIDECAR), sidecarText);
    files.push({ path: SIDECAR, role: 'other', sha256: createHash('sha256').update(sidecarText).digest('hex'), bytes: Buffer.byteLength(sidecarText) });
    const training = info.training ?? {};
    const num = (k: string): number | undefined => (typeof training[k] === 'number' && Number.isFinite(training[k]) && training[k] >= 0 ? training[k] : undefined);
    const steps = num('steps');
    const manifest = manifestSchema.parse({
      schema: 1,
      name,
      version: options.version ?? '1',
      title: options.title ?? `CoDi ${info.task} adapter (${name})`,
      task: info.task,
      method: 'pe-codi',
      prediction,
      schedule: bb.manifest.schedule,
      sampler: { kind: 'codi', steps: Math.min(info.sampler.defaultSteps, CODI_MAX_STEPS), maxSteps: CODI_MAX_STEPS, distillSteps: info.sampler.N },
      latent: bb.manifest.latent,
      conditionChannels: info.condition.channels,
      // Only edit takes text (the instruction); inpaint and restore run on the empty prompt.
      textEmbeddingDim: info.task === 'edit' ? hidden : 0,
      upscale: options.upscale ?? 1,
      tile: { size: 512, overlap: 64 },
      backbone: { pack: bb.manifest.name, sha256: unetFile.sha256 },
      files,
      modelCard: MODEL_CARD,
      ...(options.source ? { source: options.source } : {}),
      ...(steps !== undefined ? { training: { steps: Math.round(steps), wallSeconds: num('seconds') ?? 0 } } : {}),
    });
    const facts = ['steps', 'batch', 'lr', 'muLrScale', 'seconds'].filter((k) => num(k) !== undefined).map((k) => `${k} ${num(k)}`);
    await writeAtomic(
      path.join(staging, MODEL_CARD),
      `# ${manifest.title}\n\nA PE-CoDi adapter (docs/method.md §3.1) on the frozen backbone pack "${bb.manifest.name}", pinned to its UNet (sha256 ${unetFile.sha256}).\n\n- task: ${info.task} (condition: ${info.condition.channels} latent channels)\n- sampler: CoDi deterministic, 1–${CODI_MAX_STEPS} steps on the N = ${info.sampler.N} grid, ${info.predictionType} backbone\n- training: ${facts.join(', ') || 'not recorded'}\n\nLicence and provenance: those of the backbone's weights and of the training data.\n`,
    );
    files.push(await cardFile(staging));
    const final = manifestSchema.parse({ ...manifest, files });
    await writeAtomic(path.join(staging, MANIFEST), JSON.stringify(final, null, 2) + '\n');
    await fs.rename(staging, dest);
    return { dir: dest, manifest: final, sidecar };
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}

async function cardFile(dir: string): Promise<PackFile> {
  const { sha256, bytes } = await hashFile(path.join(dir, MODEL_CARD));
  return { path: MODEL_CARD, role: 'other', sha256, bytes };
}
