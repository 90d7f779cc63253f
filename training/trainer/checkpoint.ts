/**
 * Run-folder checkpoints that resume EXACTLY: every float32 tensor byte-for-byte (weights,
 * EMA, optimizer moments, frozen models) plus a JSON state (step, RNG and data-order state,
 * config). Writes are atomic: a temp folder is filled and fsynced, then renamed, then
 * `latest.json` is replaced by temp + rename, so a crash at any point leaves the previous
 * complete checkpoint selectable and a half-written one is never chosen.
 *
 * Layout: <runDir>/checkpoints/step-00000100/{tensors.bin, meta.json}, <runDir>/latest.json.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ParamRecord } from '../../core/nn/params.ts';

/** A named float32 tensor as plain data. */
export interface StoredTensor {
  shape: number[];
  data: Float32Array;
}

interface TensorIndexEntry {
  name: string;
  shape: number[];
  /** Offset and length in float32 elements. */
  offset: number;
  length: number;
}

interface MetaFile<S> {
  format: 'codi-checkpoint';
  version: 1;
  step: number;
  sha256: string;
  tensors: TensorIndexEntry[];
  state: S;
}

export interface LoadedCheckpoint<S> {
  step: number;
  dir: string;
  state: S;
  tensors: Map<string, StoredTensor>;
}

const CKPT_DIR = 'checkpoints';
const LATEST = 'latest.json';

export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

async function writeFileSynced(file: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable on POSIX file systems; some platforms refuse to open a directory.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // best effort (Windows)
  }
}

/** Write one checkpoint atomically and point latest.json at it; returns its folder. */
export async function saveCheckpoint<S>(runDir: string, step: number, tensors: Map<string, StoredTensor>, state: S): Promise<string> {
  const root = path.join(runDir, CKPT_DIR);
  await mkdir(root, { recursive: true });
  const name = checkpointDirName(step);
  const finalDir = path.join(root, name);
  const tmpDir = path.join(root, `.tmp-${name}-${process.pid}-${Date.now()}`);
  await mkdir(tmpDir);
  try {
    let total = 0;
    const index: TensorIndexEntry[] = [];
    for (const [n, t] of tensors) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      if (size !== t.data.length) throw new Error(`checkpoint tensor ${n}: ${t.data.length} values for shape [${t.shape}]`);
      index.push({ name: n, shape: [...t.shape], offset: total, length: size });
      total += size;
    }
    const buf = new Float32Array(total);
    for (const e of index) buf.set(tensors.get(e.name)!.data, e.offset);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeFileSynced(path.join(tmpDir, 'tensors.bin'), bytes);
    const meta: MetaFile<S> = { format: 'codi-checkpoint', version: 1, step, sha256, tensors: index, state };
    // meta.json last: a folder without it is incomplete by construction.
    await writeFileSynced(path.join(tmpDir, 'meta.json'), JSON.stringify(meta));
    await syncDir(tmpDir);
    await rm(finalDir, { recursive: true, force: true });
    await rename(tmpDir, finalDir);
    await syncDir(root);
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
  const latestTmp = path.join(runDir, `.${LATEST}.${process.pid}.tmp`);
  await writeFileSynced(latestTmp, JSON.stringify({ step, dir: `${CKPT_DIR}/${name}` }) + '\n');
  await rename(latestTmp, path.join(runDir, LATEST));
  await syncDir(runDir);
  return finalDir;
}

/** Read and verify (size, sha256) one checkpoint folder. */
export async function loadCheckpointDir<S>(dir: string): Promise<LoadedCheckpoint<S>> {
  const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as MetaFile<S>;
  if (meta.format !== 'codi-checkpoint' || meta.version !== 1) throw new Error(`${dir}: not a version-1 CoDi checkpoint`);
  const raw = await readFile(path.join(dir, 'tensors.bin'));
  const sha = createHash('sha256').update(raw).digest('hex');
  if (sha !== meta.sha256) throw new Error(`${dir}: tensors.bin is corrupt (sha256 mismatch)`);
  if (raw.byteLength % 4 !== 0) throw new Error(`${dir}: tensors.bin size is not a multiple of 4`);
  // Copy into an aligned buffer (a Node Buffer may sit at any byte offset of its pool).
  const all = new Float32Array(raw.byteLength / 4);
  new Uint8Array(all.buffer).set(raw);
  const tensors = new Map<string, StoredTensor>();
  for (const e of meta.tensors) {
    if (e.offset + e.length > all.length) throw new Error(`${dir}: tensor ${e.name} runs past the end of tensors.bin`);
    tensors.set(e.name, { shape: e.shape, data: all.slice(e.offset, e.offset + e.length) });
  }
  return { step: meta.step, dir, state: meta.state, tensors };
}

/**
 * The newest complete checkpoint of a run: the one latest.json names when it verifies,
 * otherwise the highest-step folder that does. Null when the run has none.
 */
export async function loadLatestCheckpoint<S>(runDir: string): Promise<LoadedCheckpoint<S> | null> {
  const tried = new Set<string>();
  try {
    const latest = JSON.parse(await readFile(path.join(runDir, LATEST), 'utf8')) as { dir: string };
    const dir = path.join(runDir, latest.dir);
    tried.add(dir);
    return await loadCheckpointDir<S>(dir);
  } catch {
    // fall through to scanning
  }
  let names: string[] = [];
  try {
    names = (await readdir(path.join(runDir, CKPT_DIR))).filter((n) => /^step-\d{8}$/.test(n)).sort().reverse();
  } catch {
    return null;
  }
  for (const n of names) {
    const dir = path.join(runDir, CKPT_DIR, n);
    if (tried.has(dir)) continue;
    try {
      return await loadCheckpointDir<S>(dir);
    } catch {
      // incomplete or corrupt: try an older one
    }
  }
  return null;
}

/** Delete all but the newest `keep` checkpoint folders (and stale temp folders). */
export async function pruneCheckpoints(runDir: string, keep: number): Promise<void> {
  const root = path.join(runDir, CKPT_DIR);
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return;
  }
  const done = names.filter((n) => /^step-\d{8}$/.test(n)).sort();
  const stale = done.slice(0, Math.max(0, done.length - Math.max(1, keep)));
  const temps = names.filter((n) => n.startsWith('.tmp-') && !n.includes(`-${process.pid}-`));
  for (const n of [...stale, ...temps]) await rm(path.join(root, n), { recursive: true, force: true });
}

/** The tensors stored under `prefix/` (e.g. 'model/backbone', 'ema'), named as in a ParamRecord. */
export function recordUnder(tensors: Map<string, StoredTensor>, prefix: string): ParamRecord {
  const rec: ParamRecord = {};
  for (const [k, t] of tensors) if (k.startsWith(`${prefix}/`)) rec[k.slice(prefix.length + 1)] = { shape: t.shape, data: t.data };
  return rec;
}

/** The online weights a run resumes from (either engine's checkpoint). */
export function onlineWeightsFrom(tensors: Map<string, StoredTensor>, hasAdapter: boolean): { backbone: ParamRecord; adapter?: ParamRecord } {
  const backbone = recordUnder(tensors, 'model/backbone');
  return hasAdapter ? { backbone, adapter: recordUnder(tensors, 'model/adapter') } : { backbone };
}
