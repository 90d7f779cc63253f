/**
 * Reads a training dataset in the on-disk format of CONVENTIONS.md (dataset.json +
 * items.jsonl + 8-bit PNGs) into latent-resolution NCHW items: x = pixel-unshuffle of the
 * [-1, 1] target, condition from core/conditions.ts (the same builder the engine uses).
 * Every item is checked first and ALL problems are reported together (a preflight), so a
 * bad dataset fails before any training time is spent.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { buildCondition, conditionChannels, LATENT_FACTOR } from '../../core/conditions.ts';
import type { HoleFill } from '../../core/conditions.ts';
import type { ConditionInput } from '../../core/conditions.ts';
import type { KnownInstruction } from '../../core/text/instruction-features.ts';
import { packRelativePath } from '../../core/packs/manifest.ts';
import { pixelUnshuffle, u8HwcToNchw, u8MaskToNchw } from '../../core/tensor/layout.ts';
import type { F32Tensor } from '../../core/tensor/ops.ts';
import type { LatentGeometry, LatentItem } from '../trainer/batch-sampler.ts';
import { parseItems, parseMeta } from '../../core/data/dataset-format.ts';
import type { DatasetItem, DatasetMeta } from '../../core/data/dataset-format.ts';

export { parseItems, parseMeta };
export type { DatasetItem, DatasetMeta, DatasetTask } from '../../core/data/dataset-format.ts';


export interface LatentDataset {
  meta: DatasetMeta;
  geometry: LatentGeometry;
  train: LatentItem[];
  val: LatentItem[];
  /** Restoration scale of the items (1 for other tasks). */
  scale: number;
  /**
   * Edit datasets: every instruction wording the train split uses (and the non-held-out
   * wordings of instructions.json), each with the edit it names; exported as the pack's
   * instruction table so the engine can tell known from unknown instructions.
   */
  instructions?: KnownInstruction[];
}

export interface ReadDatasetOptions {
  /** Instruction → embedding, required for 'edit' items (their `text`). */
  embedText?: (text: string) => Float32Array;
  /** Width of embedText's vectors. */
  textDim?: number;
  /** Read at most this many items per split (after file order). */
  maxItems?: { train?: number; val?: number };
  /**
   * Read the targets only, as unconditional data (backbone pretraining): the condition is not
   * built and condChannels is 0.
   */
  unconditional?: boolean;
  /** What inpaint conditions carry under the hole (core/conditions.ts HoleFill); default 'zero'. */
  holeFill?: HoleFill;
}

/** Pixel cap per image: the dataset is for small training crops, not for posters. */
const MAX_PIXELS = 4096 * 4096;

interface Decoded {
  data: Uint8Array;
  width: number;
  height: number;
}

async function decode(file: string, channels: 1 | 3): Promise<Decoded> {
  let img = sharp(file, { limitInputPixels: MAX_PIXELS, failOn: 'error' });
  img = channels === 3 ? img.removeAlpha().toColourspace('srgb') : img.extractChannel(0);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels, expected ${channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

function resolveInside(root: string, rel: string, what: string): string {
  const ok = packRelativePath.safeParse(rel);
  if (!ok.success) throw new Error(`${what} path "${rel}" must be relative and stay inside the dataset folder`);
  return path.join(root, rel);
}

async function readItem(root: string, meta: DatasetMeta, item: DatasetItem, opts: ReadDatasetOptions): Promise<LatentItem> {
  const [H, W] = meta.size;
  const tgt = await decode(resolveInside(root, item.target, 'target'), 3);
  if (tgt.width !== W || tgt.height !== H) throw new Error(`target is ${tgt.width}×${tgt.height}, dataset size is ${W}×${H}`);
  const target = u8HwcToNchw(tgt.data, H, W, 3);
  const x = pixelUnshuffle(target, LATENT_FACTOR).data;
  if (opts.unconditional) return { x };
  if (meta.task === 'pretrain') throw new Error('a pretrain dataset holds targets only: it can train a backbone (--method pretrain), not a conditional model');
  const rgb = async (rel: string | undefined, what: string): Promise<F32Tensor> => {
    if (!rel) throw new Error(`task ${meta.task} needs "${what}"`);
    const d = await decode(resolveInside(root, rel, what), 3);
    return u8HwcToNchw(d.data, d.height, d.width, 3);
  };
  const grey = async (rel: string | undefined, what: string): Promise<Decoded> => {
    if (!rel) throw new Error(`task ${meta.task} needs "${what}"`);
    const d = await decode(resolveInside(root, rel, what), 1);
    if (d.width !== W || d.height !== H) throw new Error(`${what} is ${d.width}×${d.height}, expected ${W}×${H}`);
    return d;
  };
  let input: ConditionInput;
  let text: Float32Array | undefined;
  switch (meta.task) {
    case 'restore': {
      const lowRes = await rgb(item.input, 'input');
      const scale = item.scale ?? 1;
      const [, , h, w] = lowRes.shape as [number, number, number, number];
      if (h * scale !== H || w * scale !== W) throw new Error(`input ${w}×${h} × scale ${scale} does not give ${W}×${H}`);
      input = { task: 'restore', lowRes, outHeight: H, outWidth: W };
      break;
    }
    case 'inpaint': {
      const m = await grey(item.mask, 'mask');
      // The masked image is the target unless a separate input is given.
      input = { task: 'inpaint', image: item.input ? await rgb(item.input, 'input') : target, mask: u8MaskToNchw(m.data, H, W, 1), holeFill: opts.holeFill ?? 'zero' };
      break;
    }
    case 'edit': {
      input = { task: 'edit', source: await rgb(item.input, 'input') };
      if (!opts.embedText) throw new Error('edit datasets need an instruction embedder (embedText)');
      if (typeof item.text !== 'string') throw new Error('edit items need "text"');
      text = opts.embedText(item.text);
      if (text.length !== opts.textDim) throw new Error(`text embedding has ${text.length} values, expected ${opts.textDim}`);
      break;
    }
    case 'depth': {
      const d = await grey(item.depth, 'depth');
      input = { task: 'depth', depth: u8HwcToNchw(d.data, H, W, 1) };
      break;
    }
    case 'custom':
      input = { task: 'custom', before: await rgb(item.input, 'input') };
      break;
  }
  const cond = buildCondition(input);
  const [, , ch, cw] = cond.shape as [number, number, number, number];
  if (ch !== H / LATENT_FACTOR || cw !== W / LATENT_FACTOR) throw new Error(`condition is ${cw}×${ch}, expected latent ${W / LATENT_FACTOR}×${H / LATENT_FACTOR}`);
  return text ? { x, cond: cond.data, text } : { x, cond: cond.data };
}

/** Read, check and convert a whole dataset folder into memory. */
export async function readDataset(dir: string, opts: ReadDatasetOptions = {}): Promise<LatentDataset> {
  const meta = parseMeta(await readFile(path.join(dir, 'dataset.json'), 'utf8'));
  const all = parseItems(await readFile(path.join(dir, 'items.jsonl'), 'utf8'));
  const pick = (split: 'train' | 'val') => all.filter((i) => i.split === split).slice(0, opts.maxItems?.[split] ?? Number.POSITIVE_INFINITY);
  if (meta.task === 'pretrain' && !opts.unconditional) {
    throw new Error(`dataset ${dir} is a pretrain dataset (targets only): it can train a backbone (--method pretrain), not a conditional model`);
  }
  const chosen = [...pick('train'), ...pick('val')];
  const problems: string[] = [];
  const train: LatentItem[] = [];
  const val: LatentItem[] = [];
  for (const item of chosen) {
    try {
      (item.split === 'train' ? train : val).push(await readItem(dir, meta, item, opts));
    } catch (err) {
      problems.push(`${item.target}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).join('\n  ');
    throw new Error(`dataset ${dir} has ${problems.length} bad item(s):\n  ${shown}${problems.length > 20 ? '\n  …' : ''}`);
  }
  if (train.length === 0) throw new Error(`dataset ${dir} has no train items`);
  const [H, W] = meta.size;
  const textDim = meta.task === 'edit' && !opts.unconditional ? (opts.textDim ?? 0) : 0;
  const geometry: LatentGeometry = {
    channels: 3 * LATENT_FACTOR * LATENT_FACTOR,
    condChannels: opts.unconditional || meta.task === 'pretrain' ? 0 : conditionChannels(meta.task),
    textDim,
    h: H / LATENT_FACTOR,
    w: W / LATENT_FACTOR,
  };
  const scales = new Set(chosen.map((i) => i.scale ?? 1));
  const out: LatentDataset = { meta, geometry, train, val, scale: meta.task === 'restore' ? Math.max(...scales) : 1 };
  if (meta.task === 'edit' && !opts.unconditional) {
    out.instructions = knownInstructions(all.filter((i) => i.split === 'train'), await readInstructionCatalogue(dir));
  }
  return out;
}

/** The builder's instructions.json (edit id, wordings, which wordings are held out); [] if absent. */
interface CatalogueEntry {
  id: string;
  instruction?: string;
  paraphrases?: { text: string; heldOut?: boolean }[];
}

async function readInstructionCatalogue(dir: string): Promise<CatalogueEntry[]> {
  const file = path.join(dir, 'instructions.json');
  if (!existsSync(file)) return [];
  const raw = JSON.parse(await readFile(file, 'utf8')) as unknown;
  if (!Array.isArray(raw)) throw new Error('instructions.json must be an array of {id, paraphrases}');
  return raw.filter((e): e is CatalogueEntry => typeof e === 'object' && e !== null && typeof (e as CatalogueEntry).id === 'string');
}

/**
 * Known wordings = the texts of the train items plus the catalogue's training (not held-out)
 * wordings, each mapped to its edit id (a text the catalogue does not list names itself).
 * Held-out wordings are left out on purpose: they measure generalisation, so the engine must
 * treat them like any other unseen phrasing.
 */
export function knownInstructions(trainItems: readonly DatasetItem[], catalogue: readonly CatalogueEntry[]): KnownInstruction[] {
  const editOf = new Map<string, string>();
  const heldOut = new Set<string>();
  for (const e of catalogue) {
    if (e.instruction) editOf.set(e.instruction, e.id);
    for (const p of e.paraphrases ?? []) {
      editOf.set(p.text, e.id);
      if (p.heldOut) heldOut.add(p.text);
    }
  }
  const texts = new Set<string>();
  for (const e of catalogue) {
    if (e.instruction && !heldOut.has(e.instruction)) texts.add(e.instruction);
    for (const p of e.paraphrases ?? []) if (!p.heldOut) texts.add(p.text);
  }
  for (const it of trainItems) if (typeof it.text === 'string') texts.add(it.text);
  return [...texts].map((text) => ({ text, edit: editOf.get(text) ?? text }));
}
