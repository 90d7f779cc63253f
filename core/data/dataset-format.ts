/**
 * The on-disk training dataset format of CONVENTIONS.md (dataset.json + items.jsonl + 8-bit
 * PNGs): the two metadata files' shapes and their checked parsers, shared by the trainer's
 * reader (training/data/dataset-reader.ts) and the engine's `codi encode-dataset`.
 */
import type { PackTask } from '../packs/manifest.ts';
import { LATENT_FACTOR } from '../conditions.ts';

/** One line of items.jsonl. */
export interface DatasetItem {
  split: 'train' | 'val';
  target: string;
  input?: string;
  mask?: string;
  depth?: string;
  text?: string;
  scale?: number;
}

/** What a dataset folder holds: a conditional task, or targets only ('pretrain', for the backbone). */
export type DatasetTask = Exclude<PackTask, 'backbone'> | 'pretrain';

export interface DatasetMeta {
  task: DatasetTask;
  size: [number, number];
  sources: unknown[];
}

const TASKS = ['restore', 'inpaint', 'edit', 'depth', 'custom', 'pretrain'] as const;

/** dataset.json, checked. */
export function parseMeta(text: string): DatasetMeta {
  const raw = JSON.parse(text) as Partial<DatasetMeta>;
  if (!raw.task || !(TASKS as readonly string[]).includes(raw.task)) throw new Error(`dataset.json: unknown task "${String(raw.task)}"`);
  const size = raw.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((n) => Number.isInteger(n) && n > 0 && n % LATENT_FACTOR === 0)) {
    throw new Error(`dataset.json: size must be [H, W], positive multiples of ${LATENT_FACTOR}`);
  }
  return { task: raw.task, size: [size[0], size[1]], sources: Array.isArray(raw.sources) ? raw.sources : [] };
}

/** items.jsonl, checked line by line. */
export function parseItems(text: string): DatasetItem[] {
  const items: DatasetItem[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let o: DatasetItem;
    try {
      o = JSON.parse(line) as DatasetItem;
    } catch (err) {
      throw new Error(`items.jsonl line ${i + 1}: ${(err as Error).message}`);
    }
    if ((o.split !== 'train' && o.split !== 'val') || typeof o.target !== 'string') throw new Error(`items.jsonl line ${i + 1}: needs split (train|val) and target`);
    items.push(o);
  });
  return items;
}
