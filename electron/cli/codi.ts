/**
 * `codi` command line: the same engine as the app, through EngineHost.
 *
 *   codi models [--verbose]
 *   codi models pull|remove|verify ...   (electron/cli/models.ts; the Hub model manager)
 *   codi run <tool|pack> <input> -o <output> [--steps N] [--prompt TEXT] [--mask FILE]
 *            [--scale N] [--seed N] [--strength X] [--pack NAME] [--quality N] [--overwrite]
 *            [--negative TEXT] [--guidance W] [--image-guidance S]
 *   codi import <diffusers folder> ...   (electron/engine/diffusers/cli.ts; no engine needed)
 *   codi verify-diffusers <pack folder>
 *   codi encode-dataset --pack P --data D --out O   (electron/engine/diffusers/encode-dataset.ts)
 *
 * (`codi train …` is routed to the training CLI by bin/codi.mjs.) The input is never
 * overwritten; the output is written atomically and only replaces a file with --overwrite.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CodiApi } from '../contract/api.ts';
import type { CodiEvent, ImageFormat, JobDone, JobFailed, JobProgress, PackInfo } from '../contract/schemas.ts';
import { packTask } from '../../core/packs/manifest.ts';
import { stepsProblem } from '../../core/packs/step-limit.ts';
import { createCodiApi } from '../broker/api.ts';
import { engineConfigFromEnv, userPacksDir } from '../broker/config.ts';
import { runEncodeDatasetCommand, runImportCommand, runVerifyCommand } from '../engine/diffusers/cli.ts';
import { OrtRuntime } from '../engine/ort.ts';
import { EngineHost, engineStatusLine } from '../broker/engine-host.ts';
import { forkEngine } from '../broker/fork.ts';
import { runBatchCommand } from './batch.ts';
import { MODELS_USAGE, runModelsCommand } from './models.ts';
import { defaultIo } from './io.ts';
import type { CliIo } from './io.ts';

// The command's entry point also names its io type: callers that drive main() take it from here.
export type { CliIo } from './io.ts';

export const USAGE = `usage:
  codi models [--verbose]   (--verbose: why a GPU provider is not used)
  codi models pull <owner/repo>[@revision] [--include GLOB]... [--name N] [--accept-licence] [--hub URL]
                            (a diffusers ONNX pack from the Hugging Face Hub; codi models help for all options)
  codi models remove <name> | codi models verify <name> [--repair]
  codi run <tool|pack> <input> -o <output> [--steps N] [--prompt TEXT] [--mask FILE]
           [--scale N] [--seed N] [--strength X] [--pack NAME] [--quality N] [--overwrite]
           [--negative TEXT] [--guidance W] [--image-guidance S]   (diffusers packs)
  codi batch <restore|edit|pack> <input folder> -o <output folder> [--steps N] [--prompt TEXT]
           [--format F] [--overwrite] ...   (whole folder, recursive; codi batch for all options)
  codi import <diffusers ONNX folder> [--name NAME] [--task TASK] [--backbone PACK] [--upscale N] ...
                            (into the user packs folder; codi import --help for all options)
  codi verify-diffusers <pack folder>
  codi encode-dataset --pack <diffusers pack or folder> --data <dataset folder> --out <new folder> [--split train|val|all]
                            (latents, conditions and text embeddings for SD-class CoDi training)
  codi train ...            (training; see codi train --help)

tools: restore, inpaint, edit, depth, custom (or a pack name from "codi models")
environment: CODI_PACKS (bundled packs folder), CODI_USER_PACKS, CODI_EP (e.g. "cpu"), CODI_THREADS`;

class UsageError extends Error {}

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === 'import') return runImportCommand(rest, { packsDir: userPacksDir(io.env), io });
  if (cmd === 'verify-diffusers') return runVerifyCommand(rest, { io });
  if (cmd === 'encode-dataset') return encodeDatasetCommand(rest, io);
  if (cmd === 'batch') return runBatchCommand(rest, io);
  if (cmd === 'models' && rest[0] === 'help') {
    io.out(MODELS_USAGE);
    return 0;
  }
  if (cmd === 'models' && rest[0] !== undefined && !rest[0].startsWith('-')) return runModelsCommand(rest, io);
  if (cmd !== 'models' && cmd !== 'run') {
    io.err(`codi: unknown command "${cmd}"\n${USAGE}`);
    return 2;
  }
  let runArgs: RunArgs | null = null;
  let verbose = false;
  try {
    if (cmd === 'run') runArgs = parseRunArgs(rest);
    else if (rest.length === 1 && (rest[0] === '--verbose' || rest[0] === '-v')) verbose = true;
    else if (rest.length > 0) throw new UsageError(`"codi models" takes only --verbose`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`codi: ${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  const host = new EngineHost({ spawn: forkEngine(engineConfigFromEnv(io.env)) });
  const api = createCodiApi(host, { appInfo: { mode: 'cli', version: '0', nativeDialogs: false, canSaveToPath: true } });
  try {
    return runArgs ? await run(api, runArgs, io) : await models(api, io, verbose);
  } finally {
    await host.stop();
  }
}

/** `codi encode-dataset`: ONNX Runtime in this process (no engine needed); Ctrl-C cancels cleanly. */
async function encodeDatasetCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const cfg = engineConfigFromEnv(io.env);
  const runtime = new OrtRuntime({ ...(cfg.providers ? { providers: cfg.providers } : {}), ...(cfg.threads ? { threads: cfg.threads } : {}) });
  const ctrl = new AbortController();
  const onSigint = () => ctrl.abort();
  process.once('SIGINT', onSigint);
  try {
    return await runEncodeDatasetCommand(argv, { packsDir: userPacksDir(io.env), io, runtime, signal: ctrl.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function models(api: CodiApi, io: CliIo, verbose: boolean): Promise<number> {
  const res = await api.listPacks({});
  if (!res.ok) {
    io.err(`codi: ${res.error.message}`);
    return 1;
  }
  const { packs, provider } = res.value;
  // Providers that are absent are normal (no GPU, no CUDA libraries): said only when asked.
  io.out(`execution provider: ${provider.active}${verbose && provider.note ? ` (${provider.note})` : ''}`);
  if (packs.length === 0) {
    io.out('no packs installed (native-models/ and the user packs folder are empty)');
    return 0;
  }
  const rows = packs.map((p) => [p.name, p.task + (p.upscale > 1 ? ` ×${p.upscale}` : ''), `${p.steps.default} (max ${p.steps.max})`, p.method, sourceText(p), statusText(p)]);
  const head = ['PACK', 'TASK', 'STEPS', 'METHOD', 'SOURCE', 'STATUS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  io.out(fmt(head));
  for (const r of rows) io.out(fmt(r));
  return 0;
}

/** Where a pack came from; a pulled one names its repo, commit and licence. */
function sourceText(p: PackInfo): string {
  if (!p.origin) return p.source;
  return `${p.source}: ${p.origin.repo}@${p.origin.revision.slice(0, 8)}, licence ${p.origin.licence ?? 'none declared'}`;
}

function statusText(p: PackInfo): string {
  if (p.status !== 'ok') return `INVALID: ${p.problem ?? 'unknown problem'}`;
  const extra = [p.backbone ? `needs ${p.backbone}` : '', p.takesText ? (p.instructions.length > 0 ? `instructions: ${p.instructions.join(' | ')}` : 'takes a free-text prompt') : '']
    .filter(Boolean)
    .join('; ');
  return extra ? `ok; ${extra}` : 'ok';
}

interface RunArgs {
  tool: string;
  input: string;
  output: string;
  steps?: number;
  prompt?: string;
  mask?: string;
  scale?: number;
  seed: number;
  strength?: number;
  pack?: string;
  quality: number;
  overwrite: boolean;
  negativePrompt?: string;
  guidanceScale?: number;
  imageGuidanceScale?: number;
}

export function parseRunArgs(args: readonly string[]): RunArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const takesValue = new Set(['-o', '--output', '--steps', '--prompt', '--mask', '--scale', '--seed', '--strength', '--pack', '--quality', '--negative', '--guidance', '--image-guidance']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith('-')) {
      const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      if (name === '--overwrite') {
        flags.set(name, true);
        continue;
      }
      if (!takesValue.has(name)) throw new UsageError(`unknown option ${name}`);
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      flags.set(name === '--output' ? '-o' : name, value);
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 2) throw new UsageError('run needs <tool> and <input>');
  const output = flags.get('-o');
  if (typeof output !== 'string') throw new UsageError('run needs -o <output>');
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = flags.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  const whole = (name: string): number | undefined => {
    const v = flags.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new UsageError(`${name} must be an integer`);
    return n;
  };
  const strengthRaw = flags.get('--strength');
  const strength = strengthRaw === undefined ? undefined : Number(strengthRaw);
  if (strength !== undefined && !(strength >= 0 && strength <= 1)) throw new UsageError('--strength must be between 0 and 1');
  const str = (name: string) => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const parsed: RunArgs = {
    tool: positional[0] as string,
    input: positional[1] as string,
    output,
    seed: int('--seed', 0, 0xffffffff) ?? 0,
    quality: int('--quality', 1, 100) ?? 95,
    overwrite: flags.get('--overwrite') === true,
  };
  // its range is the pack's (core/packs/step-limit.ts), checked once the pack is known
  const steps = whole('--steps');
  const scale = int('--scale', 1, 8);
  if (steps !== undefined) parsed.steps = steps;
  if (scale !== undefined) parsed.scale = scale;
  if (strength !== undefined) parsed.strength = strength;
  const guidance = (name: string): number | undefined => {
    const v = flags.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(n >= 0 && n <= 50)) throw new UsageError(`${name} must be a number from 0 to 50`);
    return n;
  };
  const guidanceScale = guidance('--guidance');
  const imageGuidanceScale = guidance('--image-guidance');
  const negativePrompt = str('--negative');
  if (guidanceScale !== undefined) parsed.guidanceScale = guidanceScale;
  if (imageGuidanceScale !== undefined) parsed.imageGuidanceScale = imageGuidanceScale;
  if (negativePrompt !== undefined) parsed.negativePrompt = negativePrompt;
  const prompt = str('--prompt');
  const mask = str('--mask');
  const pack = str('--pack');
  if (prompt !== undefined) parsed.prompt = prompt;
  if (mask !== undefined) parsed.mask = mask;
  if (pack !== undefined) parsed.pack = pack;
  return parsed;
}

const FORMAT_BY_EXT: Record<string, ImageFormat> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.avif': 'avif',
};

async function sameFile(a: string, b: string): Promise<boolean> {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const [sa, sb] = await Promise.all([fs.stat(a), fs.stat(b)]);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** File checks that need no engine; null = go on. */
async function preflight(a: RunArgs, io: CliIo): Promise<number | null> {
  if (!FORMAT_BY_EXT[path.extname(a.output).toLowerCase()]) {
    io.err(`codi: cannot tell the output format from "${a.output}"; use .png, .jpg, .webp, .tif or .avif`);
    return 2;
  }
  if (await sameFile(a.input, a.output)) {
    io.err('codi: the output would overwrite the input; choose another output file (the input is never overwritten)');
    return 2;
  }
  try {
    await fs.access(a.input);
  } catch {
    io.err(`codi: input "${a.input}" does not exist or cannot be read`);
    return 1;
  }
  if (!a.overwrite) {
    const exists = await fs.stat(a.output).then(() => true, () => false);
    if (exists) {
      io.err(`codi: "${a.output}" already exists; pass --overwrite to replace it`);
      return 1;
    }
  }
  return null;
}

async function run(api: CodiApi, a: RunArgs, io: CliIo): Promise<number> {
  const format = FORMAT_BY_EXT[path.extname(a.output).toLowerCase()] as ImageFormat;
  // The command first (tool, then its options), the files after: a mistyped tool is the answer
  // even when the output already exists.
  const list = await api.listPacks({});
  if (!list.ok) {
    io.err(`codi: ${list.error.message}`);
    return 1;
  }
  // Tool: a task name, or a pack name (whose task is the tool).
  let tool = a.tool;
  let pack = a.pack;
  if (!packTask.safeParse(tool).success || tool === 'backbone') {
    const byName = list.value.packs.find((p) => p.name === tool);
    if (!byName) {
      const tools = [...new Set(list.value.packs.filter((p) => p.status === 'ok' && p.task !== 'backbone').map((p) => p.task))];
      io.err(`codi: unknown tool "${tool}"; available: ${tools.join(', ') || '(no packs installed)'} or a pack name from "codi models"`);
      return 2;
    }
    tool = byName.task;
    pack = byName.name;
  }
  if (a.steps !== undefined) {
    // the pack the engine will run: the one named, else the first installed for the tool (and scale)
    const chosen = list.value.packs.find((p) => p.status === 'ok' && (pack ? p.name === pack : p.task === tool && (a.scale === undefined || p.upscale === a.scale)));
    const problem = chosen ? stepsProblem(a.steps, { name: chosen.name, maxSteps: chosen.steps.max }) : null;
    if (problem) {
      io.err(`codi: --steps: ${problem}`);
      return 2;
    }
  }
  const code = await preflight(a, io);
  if (code !== null) return code;

  const opened = await api.openImage({ source: 'path', path: path.resolve(a.input) });
  if (!opened.ok) {
    io.err(`codi: cannot open "${a.input}": ${opened.error.message}`);
    return 1;
  }
  let mask: { width: number; height: number; data: Uint8Array } | undefined;
  if (a.mask) {
    const m = await api.openImage({ source: 'path', path: path.resolve(a.mask) });
    if (!m.ok) {
      io.err(`codi: cannot open mask "${a.mask}": ${m.error.message}`);
      return 1;
    }
    const px = await api.getImagePixels({ imageId: m.value.imageId });
    if (!px.ok) {
      io.err(`codi: ${px.error.message}`);
      return 1;
    }
    const { width, height, rgba } = px.value;
    const data = new Uint8Array(width * height);
    // White (or any bright, opaque) pixels mark the area to fill.
    for (let i = 0; i < data.length; i++) data[i] = (rgba[i * 4 + 3] as number) >= 128 && (rgba[i * 4] as number) >= 128 ? 255 : 0;
    mask = { width, height, data };
  }

  // Events can arrive before runTool answers; they are held until the job id is known.
  let setJobId: (id: string) => void = () => {};
  const finished = new Promise<{ done?: JobDone; failed?: JobFailed }>((resolve) => {
    let jobId: string | null = null;
    const early: CodiEvent[] = [];
    const onEvent = (e: CodiEvent) => {
      if (!jobId) {
        early.push(e);
        return;
      }
      if (e.type === 'job-progress' && e.progress.jobId === jobId) printProgress(io, e.progress);
      if (e.type === 'job-done' && e.done.jobId === jobId) resolve({ done: e.done });
      if (e.type === 'job-failed' && e.failed.jobId === jobId) resolve({ failed: e.failed });
      const line = e.type === 'engine-status' ? engineStatusLine(e.status) : null;
      if (line) io.err(line);
    };
    api.onEvent(onEvent);
    setJobId = (id) => {
      jobId = id;
      for (const e of early.splice(0)) onEvent(e);
    };
  });
  const job = await api.runTool({
    tool: tool as 'restore',
    imageId: opened.value.imageId,
    seed: a.seed,
    priority: 'batch',
    ...(pack ? { pack } : {}),
    ...(a.steps !== undefined ? { steps: a.steps } : {}),
    ...(a.prompt !== undefined ? { prompt: a.prompt } : {}),
    ...(a.scale !== undefined ? { scale: a.scale } : {}),
    ...(a.strength !== undefined ? { strength: a.strength } : {}),
    ...(a.negativePrompt !== undefined ? { negativePrompt: a.negativePrompt } : {}),
    ...(a.guidanceScale !== undefined ? { guidanceScale: a.guidanceScale } : {}),
    ...(a.imageGuidanceScale !== undefined ? { imageGuidanceScale: a.imageGuidanceScale } : {}),
    ...(mask ? { mask } : {}),
  });
  if (!job.ok) {
    io.err(`codi: ${job.error.message}`);
    return 1;
  }
  setJobId(job.value.jobId);
  const end = await finished;
  if (io.tty) io.err('');
  if (!end.done) {
    io.err(`codi: ${end.failed?.message ?? 'the job failed'}`);
    return 1;
  }
  const saved = await api.saveImage({
    imageId: end.done.resultImageId,
    path: path.resolve(a.output),
    format,
    quality: a.quality,
    keepMetadata: false,
    overwrite: a.overwrite,
  });
  if (!saved.ok) {
    io.err(`codi: could not save "${a.output}": ${saved.error.message}`);
    return 1;
  }
  for (const n of end.done.notes) io.err(`note: ${n}`);
  io.out(`wrote ${saved.value.path} (${end.done.width}×${end.done.height}, ${saved.value.bytes} bytes) in ${(end.done.elapsedMs / 1000).toFixed(1)} s`);
  return 0;
}

function printProgress(io: CliIo, p: JobProgress): void {
  const parts: string[] = [p.stage];
  if (p.tile) parts.push(`tile ${p.tile.i}/${p.tile.m}`);
  if (p.step) parts.push(`step ${p.step.i}/${p.step.n}`);
  if (p.etaMs !== null && p.etaMs > 0) parts.push(`eta ${(p.etaMs / 1000).toFixed(1)} s`);
  if (p.message) parts.push(`(${p.message})`);
  if (io.tty) process.stderr.write(`\r\x1b[K${parts.join('  ')}`);
  else io.err(parts.join('  '));
}
