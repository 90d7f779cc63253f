/**
 * `codi encode-dataset`: a training dataset (the format of `codi build-dataset`,
 * core/data/dataset-format.ts) encoded once with a diffusers pack's own VAE encoder and text
 * encoder, so SD-class training keeps the heavy encoders out of its loop. Writes the encoded
 * data set "codi-sd-dataset/1": sd-dataset.json and three raw little-endian float32 files,
 * row-major [N, …] — target latents, the task's latent-space condition (codi-pipeline.ts
 * codiCondition, the very one the engine samples with) and the text embeddings (the instruction
 * per item for edit, one empty-prompt row otherwise). Latents are × the VAE's scaling factor.
 * The folder is staged beside `out` and renamed into place only when complete; a failure or a
 * cancel removes the staging folder and leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { parseItems, parseMeta } from '../../../core/data/dataset-format.ts';
import type { DatasetItem } from '../../../core/data/dataset-format.ts';
import { packRelativePath } from '../../../core/packs/manifest.ts';
import { u8HwcToNchw, u8MaskToNchw } from '../../../core/tensor/layout.ts';
import type { F32Tensor } from '../../../core/tensor/ops.ts';
import { AbortError } from '../../../core/samplers/index.ts';
import type { AbortSignalLike } from '../../../core/samplers/index.ts';
import { codiCondition } from './codi-pipeline.ts';
import type { CodiConditionInput } from './codi-pipeline.ts';
import { CODI_CONDITION_CHANNELS } from './codi-adapter.ts';
import type { CodiTask } from './codi-adapter.ts';
import { encodePrompts, pixelAlign, vaeEncode } from './pipeline.ts';
import type { DiffusersPipelineModel } from './pipeline.ts';

export const SD_DATASET_FORMAT = 'codi-sd-dataset/1';
export const SD_DATASET_JSON = 'sd-dataset.json';
const FILES = { target: 'target.f32', condition: 'condition.f32', text: 'text.f32' } as const;
/** Pixel cap per image, as the trainer's reader. */
const MAX_PIXELS = 4096 * 4096;

export interface EncodeDatasetOptions {
  /** Items of this split ('all': train then val). Default 'train'. */
  split?: 'train' | 'val' | 'all';
  signal?: AbortSignalLike;
  onProgress?(done: number, total: number): void;
}

export interface EncodedDatasetInfo {
  format: typeof SD_DATASET_FORMAT;
  task: CodiTask;
  count: number;
  latent: [number, number, number];
  condition: [number, number, number];
  text: [number, number];
  textRows: number;
  scalingFactor: number;
  files: typeof FILES;
  /** What it was encoded with and from (informative). */
  source: { pack: string; split: 'train' | 'val' | 'all' };
}

async function decode(file: string, channels: 1 | 3): Promise<{ data: Uint8Array; width: number; height: number }> {
  let img = sharp(file, { limitInputPixels: MAX_PIXELS, failOn: 'error' });
  img = channels === 3 ? img.removeAlpha().toColourspace('srgb') : img.extractChannel(0);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

function inside(root: string, rel: string | undefined, what: string): string {
  if (rel === undefined) throw new Error(`needs "${what}"`);
  if (!packRelativePath.safeParse(rel).success) throw new Error(`${what} path "${rel}" must be relative and stay inside the dataset folder`);
  return path.join(root, rel);
}

async function rgb(root: string, rel: string | undefined, what: string, size?: [number, number]): Promise<F32Tensor> {
  const d = await decode(inside(root, rel, what), 3);
  if (size && (d.height !== size[0] || d.width !== size[1])) throw new Error(`${what} is ${d.width}×${d.height}, expected ${size[1]}×${size[0]}`);
  return u8HwcToNchw(d.data, d.height, d.width, 3);
}

/** The condition input of one item (the masked image is the target unless an input is given). */
async function conditionInput(root: string, task: CodiTask, item: DatasetItem, target: F32Tensor, H: number, W: number): Promise<CodiConditionInput> {
  switch (task) {
    case 'inpaint': {
      const m = await decode(inside(root, item.mask, 'mask'), 1);
      if (m.width !== W || m.height !== H) throw new Error(`mask is ${m.width}×${m.height}, expected ${W}×${H}`);
      return { task, image: item.input ? await rgb(root, item.input, 'input', [H, W]) : target, mask: u8MaskToNchw(m.data, H, W, 1) };
    }
    case 'restore': {
      const lowRes = await rgb(root, item.input, 'input');
      const scale = item.scale ?? 1;
      if (lowRes.shape[2]! * scale !== H || lowRes.shape[3]! * scale !== W) throw new Error(`input ${lowRes.shape[3]}×${lowRes.shape[2]} × scale ${scale} does not give ${W}×${H}`);
      return { task, lowRes, height: H, width: W };
    }
    case 'edit':
      if (typeof item.text !== 'string' || !item.text.trim()) throw new Error('edit items need "text" (the instruction)');
      return { task, source: await rgb(root, item.input, 'input', [H, W]) };
  }
}

const le = os.endianness() === 'LE';
async function append(fh: FileHandle, t: F32Tensor): Promise<void> {
  const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (!le) bytes.swap32(); // the format is little-endian on every machine
  await fh.write(bytes);
}

/**
 * Encode the dataset at `dataDir` with `model` into `outDir` (which must not exist).
 * Returns what sd-dataset.json says.
 */
export async function encodeDataset(model: DiffusersPipelineModel, dataDir: string, outDir: string, options: EncodeDatasetOptions = {}): Promise<EncodedDatasetInfo> {
  const root = await fs.realpath(dataDir);
  const meta = parseMeta(await fs.readFile(path.join(root, 'dataset.json'), 'utf8'));
  const task = meta.task;
  if (task !== 'inpaint' && task !== 'restore' && task !== 'edit') throw new Error(`dataset task "${task}": CoDi SD adapters train inpaint, restore or edit`);
  const split = options.split ?? 'train';
  const all = parseItems(await fs.readFile(path.join(root, 'items.jsonl'), 'utf8'));
  const items = split === 'all' ? [...all.filter((i) => i.split === 'train'), ...all.filter((i) => i.split === 'val')] : all.filter((i) => i.split === split);
  if (items.length === 0) throw new Error(`the dataset has no ${split === 'all' ? '' : `${split} `}items`);
  const [H, W] = meta.size;
  const align = pixelAlign(model);
  if (H % align || W % align) throw new Error(`the dataset's size ${W}×${H} is not a multiple of ${align} px (the UNet's grid for "${model.manifest.name}"); rebuild it with --size a multiple of ${align}`);
  if (!model.vaeEncoder) throw new Error(`"${model.manifest.name}" has no vae_encoder`);
  const f = model.sidecar.vae?.factor ?? 8;
  const latentC = model.sidecar.vae?.latentChannels ?? 4;
  const cc = CODI_CONDITION_CHANNELS[task];

  const outAbs = path.resolve(outDir);
  if (await fs.lstat(outAbs).then(() => true, () => false)) throw new Error(`${outDir} already exists; choose a new folder`);
  await fs.mkdir(path.dirname(outAbs), { recursive: true });
  const staging = path.join(path.dirname(outAbs), `.${path.basename(outAbs)}.encoding-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(staging);
  const handles: FileHandle[] = [];
  try {
    const open = async (name: string) => {
      const fh = await fs.open(path.join(staging, name), 'wx');
      handles.push(fh);
      return fh;
    };
    const [tf, cf, xf] = [await open(FILES.target), await open(FILES.condition), await open(FILES.text)];
    let textShape: [number, number] | null = null;
    const writeText = async (t: F32Tensor) => {
      const [, S, D] = t.shape as [number, number, number];
      if (textShape && (textShape[0] !== S || textShape[1] !== D)) throw new Error(`text embeddings changed shape (${S}×${D} after ${textShape[0]}×${textShape[1]})`);
      textShape = [S, D];
      await append(xf, t);
    };
    if (task !== 'edit') {
      // inpaint and restore adapters train on the empty prompt: one row for every item
      const [empty] = await encodePrompts(model, ['']);
      await writeText(empty!);
    }
    for (const [i, item] of items.entries()) {
      if (options.signal?.aborted) throw new AbortError();
      try {
        const target = await rgb(root, item.target, 'target', [H, W]);
        const input = await conditionInput(root, task, item, target, H, W);
        const vaeOpts = options.signal ? { signal: options.signal } : {};
        const latent = await vaeEncode(model, target, vaeOpts);
        const condition = await codiCondition(model, input, vaeOpts);
        await append(tf, latent);
        await append(cf, condition);
        if (task === 'edit') await writeText((await encodePrompts(model, [item.text!.trim()]))[0]!);
      } catch (err) {
        if (err instanceof AbortError) throw err;
        throw new Error(`${item.target}: ${(err as Error).message}`);
      }
      options.onProgress?.(i + 1, items.length);
    }
    for (const fh of handles.splice(0)) await fh.close();
    const info: EncodedDatasetInfo = {
      format: SD_DATASET_FORMAT,
      task,
      count: items.length,
      latent: [latentC, H / f, W / f],
      condition: [cc, H / f, W / f],
      text: textShape!,
      textRows: task === 'edit' ? items.length : 1,
      scalingFactor: model.sidecar.vae?.scalingFactor ?? 0.18215,
      files: FILES,
      source: { pack: model.manifest.name, split },
    };
    await fs.writeFile(path.join(staging, SD_DATASET_JSON), JSON.stringify(info, null, 2) + '\n');
    await fs.rename(staging, outAbs);
    return info;
  } catch (err) {
    for (const fh of handles) await fh.close().catch(() => undefined);
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}
