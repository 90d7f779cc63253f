/**
 * `codi models pull | remove | verify`: the Hub model manager (electron/hub) on the command line.
 * (`codi models` alone lists the installed packs: codi.ts.)
 *
 * A pull shows the repository's licence first and needs --accept-licence (or a yes on a terminal)
 * when the licence sets conditions or the repo is gated; it pins the commit it showed, draws a
 * progress bar on a terminal (plain lines otherwise), and Ctrl-C cancels it with the partial
 * download kept, so the same command resumes.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { engineConfigFromEnv, userPacksDir } from '../broker/config.ts';
import { describeRepo, HubError, licenceNeedsAcceptance, planPackFiles, pullPack, removePack, verifyPack } from '../hub/index.ts';
import type { HubOptions, Precision, PullProgress } from '../hub/index.ts';
import { hubBase } from '../hub/http.ts';
import type { CliIo } from './io.ts';

export const MODELS_USAGE = `usage:
  codi models pull <owner/repo>[@revision] [--include GLOB]... [--name NAME] [--precision fp32|fp16]
                   [--accept-licence] [--hub URL] [--backbone PACK] [--stall-timeout SECONDS]
  codi models remove <name>
  codi models verify <name> [--repair]
A pull downloads a diffusers ONNX pack into the user packs folder; Ctrl-C stops it and the same
command resumes it. environment: HF_TOKEN (gated or private repos), HF_ENDPOINT (a mirror),
HTTPS_PROXY / HTTP_PROXY / NO_PROXY, CODI_USER_PACKS`;

class UsageError extends Error {}

interface PullArgs {
  spec: string;
  include: string[];
  name?: string;
  precision?: Precision;
  accept: boolean;
  hub?: string;
  backbone?: string;
  stallSeconds?: number;
}

function parsePullArgs(args: readonly string[]): PullArgs {
  const out: PullArgs = { spec: '', include: [], accept: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--accept-licence' || flag === '--accept-license') out.accept = true;
    else if (flag === '--include') out.include.push(value());
    else if (flag === '--name') out.name = value();
    else if (flag === '--hub') out.hub = value();
    else if (flag === '--backbone') out.backbone = value();
    else if (flag === '--precision') {
      const p = value();
      if (p !== 'fp32' && p !== 'fp16') throw new UsageError('--precision is fp32 or fp16');
      out.precision = p;
    } else if (flag === '--stall-timeout') {
      const s = Number(value());
      if (!Number.isFinite(s) || s <= 0) throw new UsageError('--stall-timeout is a number of seconds');
      out.stallSeconds = s;
    } else if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
    else if (!out.spec) out.spec = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!out.spec) throw new UsageError('codi models pull needs a repository id (owner/name)');
  return out;
}

const mb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);
const clock = (s: number | null) => (s === null ? '--:--' : s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`);

/** The numbers of one progress report: "45%  12.3 MB / 27.0 MB  1.2 MB/s  ETA 0:12". */
export function progressText(p: PullProgress): string {
  const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
  return `${String(pct).padStart(3)}%  ${mb(p.bytesDone)} / ${mb(p.bytesTotal)}  ${mb(p.bytesPerSecond)}/s  ETA ${clock(p.etaSeconds)}`;
}

const PHASE_LINES = {
  verifying: 'checking the pack (layout, graphs, sha256 of every file)',
  installing: 'installing',
} as const;

/**
 * Progress on stderr: on a terminal one bar redrawn in place; otherwise a line per phase and one
 * per tenth of the download, so logs stay short.
 */
class ProgressView {
  private phase: PullProgress['phase'] | null = null;
  private tenth = -1;
  private barShown = false;

  constructor(private readonly io: CliIo) {}

  update(p: PullProgress): void {
    if (p.phase !== this.phase) {
      this.endBar();
      this.phase = p.phase;
      // 'resolving' was said already by the licence lines; 'done' by the result line.
      if (p.phase === 'verifying' || p.phase === 'installing') this.io.err(PHASE_LINES[p.phase]);
    }
    if (p.phase !== 'downloading') return;
    if (this.io.tty && this.io.write) {
      const width = 24;
      const fill = p.bytesTotal > 0 ? Math.round((width * p.bytesDone) / p.bytesTotal) : width;
      this.io.write(`\r\u001b[2K[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${progressText(p)}`);
      this.barShown = true;
      return;
    }
    const tenth = p.bytesTotal > 0 ? Math.floor((10 * p.bytesDone) / p.bytesTotal) : 10;
    if (tenth > this.tenth) {
      this.tenth = tenth;
      this.io.err(`downloading ${progressText(p)}`);
    }
  }

  /** Leave the bar's line before anything else is printed. */
  endBar(): void {
    if (this.barShown) this.io.write?.('\n');
    this.barShown = false;
  }
}

function hubOptions(io: CliIo, hub: string | undefined, signal?: AbortSignal): HubOptions {
  const token = io.env.HF_TOKEN || io.env.HUGGING_FACE_HUB_TOKEN;
  return { env: io.env, ...(hub ? { baseUrl: hub } : {}), ...(token ? { token } : {}), ...(signal ? { signal } : {}) };
}

async function pull(args: PullArgs, io: CliIo): Promise<number> {
  const controller = new AbortController();
  const release = io.onInterrupt?.(() => controller.abort());
  const view = new ProgressView(io);
  try {
    const opts = hubOptions(io, args.hub, controller.signal);
    const info = await describeRepo(args.spec, opts);
    const files = planPackFiles(info, { ...(args.include.length > 0 ? { include: args.include } : {}), ...(args.precision ? { precision: args.precision } : {}) });
    const base = hubBase(opts).href.replace(/\/+$/, '');
    io.err(`${info.repo} at ${info.revision.slice(0, 12)}: ${files.length} files, ${mb(files.reduce((a, f) => a + f.size, 0))}`);
    io.err(`licence: ${info.licence ?? 'none declared'}${info.gated ? ` (gated repository: access ${info.gated === 'manual' ? 'granted by its authors' : 'granted on request'})` : ''}; see ${base}/${info.repo}`);
    const why = licenceNeedsAcceptance(info);
    let accepted = args.accept;
    if (why && !accepted) {
      if (!io.confirm) {
        io.err(`codi: ${info.repo} needs your acceptance: ${why}. Read it, then run again with --accept-licence. Nothing was downloaded.`);
        return 1;
      }
      accepted = await io.confirm(`${why}. Do you accept the licence of ${info.repo}?`);
      if (!accepted) {
        io.err('not accepted; nothing was downloaded');
        return 1;
      }
    }
    const packsDir = userPacksDir(io.env);
    const r = await pullPack(`${info.repo}@${info.revision}`, {
      ...opts,
      packsDir,
      acceptLicence: accepted,
      ...(args.name ? { name: args.name } : {}),
      ...(args.include.length > 0 ? { include: args.include } : {}),
      ...(args.precision ? { precision: args.precision } : {}),
      ...(args.backbone ? { backbone: args.backbone } : {}),
      ...(args.stallSeconds ? { stallTimeoutMs: args.stallSeconds * 1000 } : {}),
      onProgress: (p) => view.update(p),
    });
    view.endBar();
    io.out(`installed ${r.name} (${mb(r.bytes)}, ${info.repo}@${r.revision.slice(0, 12)}) → ${r.packDir}`);
    if (r.backbone) io.out(`backbone: ${r.backbone.name} (${r.backbone.reused ? 'already installed, same UNet' : 'installed with it'})`);
    return 0;
  } catch (err) {
    view.endBar();
    if (!(err instanceof HubError)) throw err;
    io.err(`codi: ${err.message}`);
    // 130: the shell's code for a command stopped by Ctrl-C.
    return err.code === 'cancelled' ? 130 : 1;
  } finally {
    release?.();
  }
}

const isDir = (p: string) =>
  fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );

async function verify(args: readonly string[], io: CliIo): Promise<number> {
  const repair = args.includes('--repair');
  const names = args.filter((a) => a !== '--repair');
  if (names.length !== 1 || (names[0] as string).startsWith('-')) throw new UsageError('codi models verify takes one pack name (and --repair)');
  const name = names[0] as string;
  const dirs = engineConfigFromEnv(io.env).packDirs.map((d) => path.join(d.path, name));
  const dir = /^[a-z0-9][a-z0-9._-]{0,63}$/.test(name) ? (await Promise.all(dirs.map(isDir))).findIndex(Boolean) : -1;
  if (dir < 0) {
    io.err(`codi: no installed pack named "${name}" ("codi models" lists them)`);
    return 1;
  }
  const check = await verifyPack(dirs[dir] as string, { ...hubOptions(io, undefined), repair });
  for (const f of check.repaired) io.out(`repaired: ${f} (downloaded again from the commit it was pulled at)`);
  for (const p of check.problems) io.err(`problem: ${p}`);
  if (check.ok) io.out(`${name}: every file matches its manifest (size and sha256)`);
  else if (!repair) io.err(`${name} is damaged; "codi models verify ${name} --repair" downloads the bad files again when the pack came from the Hub`);
  return check.ok ? 0 : 1;
}

async function remove(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length !== 1 || (args[0] as string).startsWith('-')) throw new UsageError('codi models remove takes one pack name');
  const name = args[0] as string;
  const packsDir = userPacksDir(io.env);
  const bundled = engineConfigFromEnv(io.env).packDirs.find((d) => d.source === 'bundled')?.path;
  if (!(await isDir(path.join(packsDir, name))) && bundled && (await isDir(path.join(bundled, name)))) {
    io.err(`codi: "${name}" is a bundled pack and comes with the app; only packs in ${packsDir} can be removed`);
    return 1;
  }
  await removePack(packsDir, name);
  io.out(`removed ${name} from ${packsDir}`);
  return 0;
}

/** Run `codi models pull|remove|verify …` (`argv` starts at the subcommand); resolves to the exit code. */
export async function runModelsCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'pull') return await pull(parsePullArgs(rest), io);
    if (sub === 'remove') return await remove(rest, io);
    if (sub === 'verify') return await verify(rest, io);
    throw new UsageError(`unknown models command "${sub ?? ''}"`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`codi: ${err.message}\n${MODELS_USAGE}`);
      return 2;
    }
    if (err instanceof HubError) {
      io.err(`codi: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
