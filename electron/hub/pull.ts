/**
 * `pullPack`: resolve → check gating and licence → choose files → disk-space preflight →
 * bounded parallel resumable downloads into a staging folder → the import checks → one rename
 * into the packs folder. A failed or cancelled pull installs nothing and keeps what it
 * downloaded, so the same pull resumes.
 *
 * Why not @huggingface/hub (the Hub's own JavaScript client): it lists files and returns a
 * file as a Blob/Response or writes it into the Hub's cache layout, but has no resume of a
 * `.partial` with Range requests, no sha256 check of what arrived and no stall watchdog, which is
 * most of what a pull needs; its listing is two GET requests (repo.ts). Taking it would add a
 * second HTTP path next to the one that must exist anyway for downloads, proxies and the token.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PackSource } from '../../core/packs/manifest.ts';
import { CODI_ADAPTER_JSON } from '../engine/diffusers/codi-adapter.ts';
import { importCodiSdExport, isCodiSdExport } from '../engine/diffusers/codi-import.ts';
import { importDiffusersPack } from '../engine/diffusers/import.ts';
import { PackError } from '../engine/packs/verify.ts';
import { bytesOnDisk, downloadFile, finalPath } from './download.ts';
import { hubClient } from './http.ts';
import type { HubClient } from './http.ts';
import { ProgressMeter } from './progress.ts';
import { describeWith, parseRepoSpec } from './repo.ts';
import { licenceNeedsAcceptance, planPackFiles } from './select.ts';
import type { PlannedFile } from './select.ts';
import { HubError } from './types.ts';
import type { PullOptions, PullResult, RepoInfo } from './types.ts';

const PACK_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const DEFAULT_STALL_MS = 30_000;
const DEFAULT_CONCURRENCY = 4;
/** Room left free after a pull: the install writes a few small files and the system needs air. */
const DISK_MARGIN = 64 * 1024 * 1024;

/** Pack name from a repository id: its name part, lower-cased, limited to the pack-name alphabet. */
export function packNameFor(repo: string): string {
  const n = (repo.split('/').pop() ?? '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);
  return PACK_NAME.test(n) ? n : 'hub-pack';
}

/** Staging folder of one repo@commit: the same pull finds its partial files there. */
export function stagingFolder(stagingDir: string, info: Pick<RepoInfo, 'repo' | 'revision'>): string {
  return path.join(stagingDir, `${info.repo.replace('/', '--')}@${info.revision}`);
}

const exists = (p: string) =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );

const fmtBytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);

/** Staging folders this process is pulling into (a lock file alone cannot tell two pulls of one process apart). */
const pullsHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One pull per staging folder at a time, across processes (the app and the CLI may both be
 * asked): two writers appending to one `.partial` would corrupt it. A lock left by a process that
 * died is taken over. Returns the release.
 */
async function lockStaging(stage: string, repo: string): Promise<() => Promise<void>> {
  const lock = `${stage}.lock`;
  const busy = () => new HubError('exists', `another pull of "${repo}" is running; wait for it or cancel it`);
  if (pullsHere.has(lock)) throw busy();
  try {
    await fs.writeFile(lock, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const pid = Number(await fs.readFile(lock, 'utf8').catch(() => ''));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw busy();
    await fs.writeFile(lock, String(process.pid));
  }
  pullsHere.add(lock);
  return async () => {
    pullsHere.delete(lock);
    await fs.rm(lock, { force: true });
  };
}

/** Refuse before downloading what cannot fit on the disk holding the staging folder. */
export async function checkDiskSpace(dir: string, need: number): Promise<void> {
  const st = await fs.statfs(dir);
  const free = st.bavail * st.bsize;
  if (need + DISK_MARGIN > free) {
    throw new HubError('disk-space', `the pack needs ${fmtBytes(need)} more on the disk holding ${dir}, but only ${fmtBytes(free)} is free (${fmtBytes(DISK_MARGIN)} is kept spare); nothing was downloaded`);
  }
}

/** Run `fn` over `items`, `n` at a time; the first failure stops the rest (through `stop`) and is thrown. */
async function bounded<T>(items: readonly T[], n: number, stop: AbortController, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let first: unknown = null;
  const worker = async () => {
    while (next < items.length && !stop.signal.aborted) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        // A worker stopped because another failed reports 'cancelled': keep the cause instead.
        if (first === null || (first instanceof HubError && first.code === 'cancelled' && !(err instanceof HubError && err.code === 'cancelled'))) first = err;
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (first !== null) throw first;
}

function modelCard(info: RepoInfo, source: PackSource, readme: string | null): string {
  const lines = [
    `# ${info.repo}`,
    '',
    'Pulled from the Hugging Face Hub (or the mirror named below) by CoDi Studio.',
    '',
    `- source: ${source.endpoint}/${info.repo}`,
    `- revision: ${info.revision}`,
    `- licence: ${info.licence ?? 'not declared'}${info.gated ? ` (gated: ${info.gated})` : ''}`,
    `- licence accepted: ${source.licenceAcceptedAt ?? 'not needed (permissive licence)'}`,
    '',
  ];
  if (readme) lines.push("## The repository's model card", '', readme.trim(), '');
  return lines.join('\n');
}

/** Download a diffusers ONNX pack from the Hub and install it as `<packsDir>/<name>` (a CoDi SD export: with its backbone pack). */
export async function pullPack(repoSpec: string, opts: PullOptions): Promise<PullResult> {
  const client = hubClient(opts);
  try {
    return await pullWith(client, repoSpec, opts);
  } finally {
    // Idle keep-alive sockets (and proxy tunnels) go with the pull.
    await client.close();
  }
}

async function pullWith(client: HubClient, repoSpec: string, opts: PullOptions): Promise<PullResult> {
  const meter = new ProgressMeter(opts.onProgress);
  const userSignal = opts.signal ?? new AbortController().signal;
  const cancelled = () => new HubError('cancelled', 'the pull was cancelled; what was downloaded is kept, so pulling again resumes');
  meter.set('resolving');
  const info = await describeWith(client, parseRepoSpec(repoSpec), userSignal);

  if (info.gated && !client.token) {
    throw new HubError('gated', `"${info.repo}" is a gated repository: sign in at ${client.origin}/${info.repo}, accept its conditions, create an access token and set HF_TOKEN (or the app's Hub token), then pull again`);
  }
  const why = licenceNeedsAcceptance(info);
  if (why && !opts.acceptLicence) {
    throw new HubError('licence-not-accepted', `"${info.repo}" needs your acceptance before downloading: ${why}. Read it at ${client.origin}/${info.repo}, then pull again with --accept-licence`);
  }
  const files = planPackFiles(info, { ...(opts.include ? { include: opts.include } : {}), ...(opts.precision ? { precision: opts.precision } : {}) });
  const name = opts.name ?? packNameFor(info.repo);
  if (!PACK_NAME.test(name)) throw new HubError('unsafe-path', `"${name}" is not a valid pack name (lower-case letters, digits, . _ -)`);
  await fs.mkdir(opts.packsDir, { recursive: true });
  const packsDir = await fs.realpath(opts.packsDir);
  const dest = path.join(packsDir, name);
  const alreadyThere = () => new HubError('exists', `a pack named "${name}" is already installed in ${packsDir}; remove it first (codi models remove ${name}) or choose another --name`);
  if (await exists(dest)) throw alreadyThere();

  const stagingDir = opts.stagingDir ?? path.join(packsDir, '.hub-staging');
  const stage = stagingFolder(stagingDir, info);
  await fs.mkdir(stage, { recursive: true });
  const unlock = await lockStaging(stage, info.repo);
  try {
    return await downloadAndInstall(client, info, files, { opts, meter, stage, name, packsDir, dest, why, userSignal, cancelled, alreadyThere });
  } finally {
    await unlock();
  }
}

interface PullState {
  opts: PullOptions;
  meter: ProgressMeter;
  stage: string;
  name: string;
  packsDir: string;
  dest: string;
  why: string | null;
  userSignal: AbortSignal;
  cancelled: () => HubError;
  alreadyThere: () => HubError;
}

async function downloadAndInstall(client: HubClient, info: RepoInfo, files: PlannedFile[], s: PullState): Promise<PullResult> {
  const { opts, meter, stage, userSignal, cancelled } = s;
  const total = files.reduce((a, f) => a + f.size, 0);
  let onDisk = 0;
  for (const f of files) onDisk += await bytesOnDisk(stage, f);
  // A CoDi SD export is copied out of the download into its two packs (it is not one pack folder).
  const copied = files.some((f) => f.local === CODI_ADAPTER_JSON) ? total : 0;
  await checkDiskSpace(stage, total - onDisk + copied);

  meter.start('downloading', total, onDisk);
  const stop = new AbortController();
  const signal = AbortSignal.any([userSignal, stop.signal]);
  // Small files first: a missing tokenizer or config shows before the gigabytes.
  const order = [...files].sort((a, b) => a.size - b.size);
  await bounded(order, opts.concurrency ?? DEFAULT_CONCURRENCY, stop, (f: PlannedFile) =>
    downloadFile(f, { client, repo: info.repo, revision: info.revision, dir: stage, stallMs: opts.stallTimeoutMs ?? DEFAULT_STALL_MS, signal, onBytes: (n) => meter.add(n, f.path) }),
  ).catch((err: unknown) => {
    throw userSignal.aborted ? cancelled() : err;
  });
  if (userSignal.aborted) throw cancelled();
  meter.flush();
  return install(info, files, { stage, dest: s.dest, name: s.name, packsDir: s.packsDir, acceptedAt: s.why ? new Date().toISOString() : null, endpoint: client.base, backbone: opts.backbone, meter, signal: userSignal, cancelled, alreadyThere: s.alreadyThere });
}

interface InstallContext {
  stage: string;
  dest: string;
  name: string;
  packsDir: string;
  acceptedAt: string | null;
  endpoint: string;
  backbone: string | undefined;
  meter: ProgressMeter;
  signal: AbortSignal;
  cancelled: () => HubError;
  alreadyThere: () => HubError;
}

/**
 * Hand the staged folder to the import checks where it will live (same disk: no copy), then
 * rename it into place. On failure the files go back to staging, so a fixable problem (a name
 * taken meanwhile, a missing backbone) does not cost the download.
 */
async function install(info: RepoInfo, files: PlannedFile[], c: InstallContext): Promise<PullResult> {
  c.meter.set('verifying');
  const work = path.join(c.packsDir, `.${c.name}.installing-${randomBytes(4).toString('hex')}`);
  const packDir = path.join(work, c.name);
  await fs.mkdir(work);
  try {
    await fs.rename(c.stage, packDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    // A staging folder on another disk: copy once (the staged files stay for a retry).
    await fs.cp(c.stage, packDir, { recursive: true });
  }
  const source: PackSource = { kind: 'huggingface', endpoint: c.endpoint, repo: info.repo, revision: info.revision, licence: info.licence, gated: info.gated, licenceAcceptedAt: c.acceptedAt };
  try {
    const readmeFile = files.find((f) => f.extra && /^README\.md$/i.test(f.local));
    const readme = readmeFile ? await fs.readFile(finalPath(packDir, readmeFile), 'utf8') : null;
    await fs.writeFile(path.join(packDir, 'MODEL_CARD.md'), modelCard(info, source, readme));
    let backboneDir: string | undefined;
    if (c.backbone) backboneDir = PACK_NAME.test(c.backbone) ? path.join(c.packsDir, c.backbone) : c.backbone;
    if (await isCodiSdExport(packDir)) {
      const backbone = await installCodiExport(info, packDir, path.join(work, '.packs'), source, backboneDir, c);
      await fs.rm(c.stage, { recursive: true, force: true });
      c.meter.set('done');
      return { packDir: c.dest, name: c.name, bytes: files.filter((f) => !f.extra).reduce((a, f) => a + f.size, 0), revision: info.revision, backbone };
    }
    try {
      await importDiffusersPack(packDir, { name: c.name, title: info.repo.slice(0, 120), source, ...(backboneDir ? { backboneDir } : {}) });
    } catch (err) {
      if (err instanceof PackError) throw new HubError('not-a-pack', `"${info.repo}" did not pass the pack checks: ${err.message}`);
      throw err;
    }
    if (c.signal.aborted) throw c.cancelled();
    if (await exists(c.dest)) throw c.alreadyThere();
    // The card's text is in MODEL_CARD.md now; kept until here so a failed install keeps it staged.
    if (readmeFile) await fs.rm(finalPath(packDir, readmeFile));
    c.meter.set('installing');
    await fs.rename(packDir, c.dest);
  } catch (err) {
    if (await exists(packDir)) {
      if (await exists(c.stage)) await fs.rm(packDir, { recursive: true, force: true });
      else await fs.rename(packDir, c.stage).catch(() => fs.rm(packDir, { recursive: true, force: true }));
    }
    throw err;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  await fs.rm(c.stage, { recursive: true, force: true });
  const bytes = files.filter((f) => !f.extra).reduce((a, f) => a + f.size, 0);
  c.meter.set('done');
  return { packDir: c.dest, name: c.name, bytes, revision: info.revision };
}

/**
 * A CoDi SD export: import's checks (the adapter pinned to the export's own UNet, graph IO) build
 * the backbone pack `<name>-backbone` (or reuse an installed one with that UNet) and the adapter
 * pack in a private folder beside the packs, then both are renamed in, the backbone first so an
 * adapter is never listed without it. Returns the backbone pack's name and whether it was reused.
 */
async function installCodiExport(info: RepoInfo, exportDir: string, out: string, source: PackSource, backboneDir: string | undefined, c: InstallContext): Promise<{ name: string; reused: boolean }> {
  let r;
  try {
    r = await importCodiSdExport(exportDir, { into: out, installedIn: c.packsDir, name: c.name, title: info.repo.slice(0, 100), source, ...(backboneDir ? { backboneDir } : {}) });
  } catch (err) {
    // codi_adapter.json's parser names the file and the field in a plain Error (it is shared with code that has no PackError).
    if (err instanceof PackError || (err instanceof Error && err.message.startsWith(CODI_ADAPTER_JSON))) {
      throw new HubError('not-a-pack', `"${info.repo}" did not pass the CoDi adapter checks: ${err.message}`);
    }
    throw err;
  }
  if (c.signal.aborted) throw c.cancelled();
  if (await exists(c.dest)) throw c.alreadyThere();
  const { name, reused } = r.backbone;
  const backboneDest = path.join(c.packsDir, name);
  if (!reused && (await exists(backboneDest))) throw new HubError('exists', `a pack named "${name}" (this adapter's backbone) is already installed in ${c.packsDir} with another UNet; remove it first or choose another --name`);
  c.meter.set('installing');
  if (!reused) await fs.rename(r.backbone.dir, backboneDest);
  try {
    await fs.rename(r.adapter.dir, c.dest);
  } catch (err) {
    if (!reused) await fs.rm(backboneDest, { recursive: true, force: true });
    throw err;
  }
  return { name, reused };
}
