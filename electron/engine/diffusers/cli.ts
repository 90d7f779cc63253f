/**
 * `codi import <folder> [--name n] [--task t] [--backbone <pack folder or installed pack name>] [--into <packs folder>]
 * [--in-place] [--title t] [--guidance w] [--image-guidance s] [--upscale n]` and `codi verify-diffusers <pack>`,
 * and `codi encode-dataset`, exposed as functions for bin/codi to call. Returns the exit code; writes human-readable lines.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AbortError } from '../../../core/samplers/index.ts';
import { packTask } from '../../../core/packs/manifest.ts';
import { importDiffusersPack, isDiffusersPack, verifyDiffusersPack } from './import.ts';
import { encodeDataset } from './encode-dataset.ts';
import { loadDiffusersPipeline } from './pipeline.ts';
import type { SessionFactory } from './sessions.ts';
import type { ImportOptions } from './import.ts';
import { importCodiSdExport, isCodiSdExport } from './codi-import.ts';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const stdio: CliIo = { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') };

/**
 * Run `codi import …`. `argv` excludes the command word. `packsDir` is the user packs folder
 * (default destination unless --in-place or --into is given).
 */
export async function runImportCommand(argv: readonly string[], context: { packsDir?: string; io?: CliIo } = {}): Promise<number> {
  const io = context.io ?? stdio;
  const usage = 'usage: codi import <diffusers folder or CoDi SD export (with codi_adapter/)> [--name <pack>] [--task inpaint|restore|edit|backbone|depth|custom] [--backbone <pack folder or installed pack name>] [--into <packs folder> | --in-place] [--title <text>] [--guidance <w>] [--image-guidance <s>] [--upscale <1..8>]';
  let folder: string | undefined;
  const opts: ImportOptions = {};
  let inPlace = false;
  const guidance: { text?: number; image?: number } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '--name') opts.name = value();
      else if (a === '--title') opts.title = value();
      else if (a === '--task') {
        const t = packTask.safeParse(value());
        if (!t.success) throw new Error(`unknown task "${argv[i]}"`);
        opts.task = t.data;
      } else if (a === '--backbone') opts.backboneDir = value();
      else if (a === '--into') opts.into = value();
      else if (a === '--in-place') inPlace = true;
      else if (a === '--upscale') {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error('--upscale must be an integer from 1 to 8');
        opts.upscale = n;
      }
      else if (a === '--guidance' || a === '--image-guidance') {
        const n = Number(value());
        if (!Number.isFinite(n) || n < 0 || n > 50) throw new Error(`${a} must be a number in [0, 50]`);
        guidance[a === '--guidance' ? 'text' : 'image'] = n;
      } else if (a === '--help' || a === '-h') {
        io.out(usage);
        return 0;
      } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
      else if (folder === undefined) folder = a;
      else throw new Error(`unexpected argument ${a}`);
    } catch (err) {
      io.err(`${(err as Error).message}\n${usage}`);
      return 2;
    }
  }
  if (!folder) {
    io.err(usage);
    return 2;
  }
  if (!inPlace && !opts.into && context.packsDir) opts.into = context.packsDir;
  // --backbone may name an installed pack instead of giving its folder.
  const packsRoot = opts.into ?? context.packsDir;
  if (opts.backboneDir && packsRoot && /^[a-z0-9][a-z0-9._-]{0,63}$/.test(opts.backboneDir) && !(await isDir(opts.backboneDir))) {
    opts.backboneDir = path.join(packsRoot, opts.backboneDir);
  }
  if (guidance.text !== undefined || guidance.image !== undefined) opts.guidance = guidance;
  try {
    if (await isCodiSdExport(folder)) {
      const r = await importCodiSdExport(folder, opts);
      io.out(`${r.backbone.reused ? 'using installed backbone' : 'imported backbone'} ${r.backbone.name} → ${r.backbone.dir}`);
      io.out(`imported ${r.adapter.manifest.name} (CoDi ${r.adapter.manifest.task} adapter on ${r.backbone.name}, ${r.adapter.manifest.files.length} files) → ${r.adapter.dir}`);
      if (!r.backbone.reused) await verifyDiffusersPack(r.backbone.dir);
      await verifyDiffusersPack(r.adapter.dir);
      io.out('verified: sizes and sha256 match the manifests');
      return 0;
    }
    const r = await importDiffusersPack(folder, opts);
    const bytes = r.manifest.files.reduce((a, f) => a + f.bytes, 0);
    io.out(`imported ${r.manifest.name} (${r.manifest.task}, ${r.manifest.files.length} files, ${(bytes / 1e6).toFixed(1)} MB) → ${r.dir}`);
    await verifyDiffusersPack(r.dir);
    io.out('verified: sizes and sha256 match the manifest');
    return 0;
  } catch (err) {
    io.err(`import failed: ${(err as Error).message}`);
    return 1;
  }
}

/** Run `codi verify-diffusers <pack folder>`: full size + sha256 check. */
export async function runVerifyCommand(argv: readonly string[], context: { io?: CliIo } = {}): Promise<number> {
  const io = context.io ?? stdio;
  if (argv.length !== 1) {
    io.err('usage: codi verify-diffusers <pack folder>');
    return 2;
  }
  try {
    const r = await verifyDiffusersPack(argv[0]!);
    io.out(`${r.manifest.name}: ${r.manifest.files.length} files verified`);
    return 0;
  } catch (err) {
    io.err(`verify failed: ${(err as Error).message}`);
    return 1;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `codi encode-dataset --pack <imported pack, installed pack name or diffusers ONNX folder>
 * --data <dataset folder> --out <new folder> [--split train|val|all]`: encodes the dataset with
 * the pack's VAE and text encoder (encode-dataset.ts). Ctrl-C cancels and leaves nothing behind.
 */
export async function runEncodeDatasetCommand(argv: readonly string[], context: { packsDir?: string; io?: CliIo; runtime: SessionFactory; signal?: AbortSignal }): Promise<number> {
  const io = context.io ?? stdio;
  const usage = 'usage: codi encode-dataset --pack <diffusers pack, installed pack name or diffusers ONNX folder> --data <dataset folder (codi build-dataset)> --out <new folder> [--split train|val|all]';
  const got = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      io.out(usage);
      return 0;
    }
    const v = argv[i + 1];
    if (!['--pack', '--data', '--out', '--split'].includes(a) || v === undefined) {
      io.err(`${a.startsWith('-') ? `${a} ${v === undefined ? 'needs a value' : 'is not an option'}` : `unexpected argument ${a}`}\n${usage}`);
      return 2;
    }
    got.set(a, v);
    i++;
  }
  const pack = got.get('--pack');
  const data = got.get('--data');
  const out = got.get('--out');
  const split = got.get('--split') ?? 'train';
  if (!pack || !data || !out || (split !== 'train' && split !== 'val' && split !== 'all')) {
    io.err(usage);
    return 2;
  }
  let temp: string | null = null;
  try {
    let dir = pack;
    if (!(await isDir(dir)) && context.packsDir && /^[a-z0-9][a-z0-9._-]{0,63}$/.test(pack)) dir = path.join(context.packsDir, pack);
    if (!(await isDiffusersPack(dir))) {
      // A plain diffusers folder: imported (copied and hashed) into a scratch packs folder for this run.
      temp = await fs.mkdtemp(path.join(os.tmpdir(), 'codi-encode-'));
      io.err(`importing ${pack} for this run (hashing every file)…`);
      dir = (await importDiffusersPack(dir, { into: temp, name: 'encoder' })).dir;
    }
    const model = await loadDiffusersPipeline(dir, context.runtime);
    let last = 0;
    const info = await encodeDataset(model, data, out, {
      split,
      ...(context.signal ? { signal: context.signal } : {}),
      onProgress: (done, total) => {
        // about twenty lines for a long run, every item for a short one
        if (done === total || done - last >= Math.max(1, Math.floor(total / 20))) {
          last = done;
          io.err(`encoded ${done}/${total}`);
        }
      },
    });
    io.out(`wrote ${out}: ${info.count} ${info.task} items, latent [${info.latent.join(', ')}], condition [${info.condition.join(', ')}], text [${info.textRows}, ${info.text.join(', ')}]`);
    return 0;
  } catch (err) {
    if (err instanceof AbortError) {
      io.err('cancelled; nothing was written');
      return 130;
    }
    io.err(`encode-dataset failed: ${(err as Error).message}`);
    return 1;
  } finally {
    if (temp) await fs.rm(temp, { recursive: true, force: true });
  }
}

