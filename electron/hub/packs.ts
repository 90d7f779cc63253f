/**
 * Installed user packs: remove one, re-check (and repair) one. Only the user packs folder is
 * touched (bundled packs are part of the app); a name is a pack name, never a path.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseManifest } from '../../core/packs/manifest.ts';
import type { PackFile } from '../../core/packs/manifest.ts';
import { hashFile, isDiffusersPack, verifyDiffusersPack } from '../engine/diffusers/import.ts';
import { resolveInsidePack } from '../engine/packs/verify.ts';
import { downloadFile, finalPath } from './download.ts';
import { hubClient } from './http.ts';
import { describeWith } from './repo.ts';
import { HubError } from './types.ts';
import type { HubOptions } from './types.ts';

const PACK_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const DEFAULT_STALL_MS = 30_000;

/**
 * Remove `<packsDir>/<name>`: renamed out of the packs folder's view first (one step, so the
 * engine never lists half a pack), then deleted.
 */
export async function removePack(packsDir: string, name: string): Promise<void> {
  if (!PACK_NAME.test(name)) throw new HubError('not-found', `"${name}" is not a pack name`);
  const dir = path.join(packsDir, name);
  const st = await fs.lstat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new HubError('not-found', `no pack named "${name}" in ${packsDir}`);
  const trash = path.join(packsDir, `.${name}.removing-${randomBytes(4).toString('hex')}`);
  await fs.rename(dir, trash);
  await fs.rm(trash, { recursive: true, force: true });
}

export interface PackCheck {
  ok: boolean;
  /** One line per file that is missing, truncated or fails its sha256 (or a manifest problem). */
  problems: string[];
  /** Files downloaded again from the pack's recorded source and now matching the manifest. */
  repaired: string[];
}

/** The problem with one manifest file, or null when its size and sha256 match. */
async function fileProblem(root: string, f: PackFile): Promise<string | null> {
  let abs: string;
  try {
    abs = await resolveInsidePack(root, f.path);
  } catch (err) {
    return (err as Error).message;
  }
  const { sha256, bytes } = await hashFile(abs);
  if (bytes !== f.bytes) return `"${f.path}" has ${bytes} bytes but the manifest says ${f.bytes}`;
  if (sha256 !== f.sha256) return `"${f.path}" failed its checksum (the file is corrupt or was modified)`;
  return null;
}

/**
 * Re-check every file of an installed pack against its manifest (size and sha256). With
 * `repair`, a pack pulled from a hub gets its bad files downloaded again from the commit it was
 * pulled at (the manifest's source), each checked against the manifest's sha256 before it
 * replaces the bad one.
 */
export async function verifyPack(packDir: string, opts: HubOptions & { repair?: boolean } = {}): Promise<PackCheck> {
  const root = await fs.realpath(packDir).catch(() => {
    throw new HubError('not-found', `${packDir} is not a pack folder`);
  });
  let manifest;
  try {
    manifest = parseManifest(await fs.readFile(await resolveInsidePack(root, 'manifest.json'), 'utf8'));
  } catch (err) {
    return { ok: false, problems: [(err as Error).message], repaired: [] };
  }
  const bad: Array<{ file: PackFile; problem: string }> = [];
  for (const f of manifest.files) {
    const problem = await fileProblem(root, f);
    if (problem) bad.push({ file: f, problem });
  }
  const repaired: string[] = [];
  const src = manifest.source;
  if (opts.repair && bad.length > 0 && src) {
    const client = hubClient({ ...opts, baseUrl: opts.baseUrl ?? src.endpoint });
    const stage = path.join(path.dirname(root), `.${manifest.name}.repair-${randomBytes(4).toString('hex')}`);
    try {
      const info = await describeWith(client, { repo: src.repo, revision: src.revision }, opts.signal);
      for (const { file } of bad) {
        // The same path at the pinned commit; a precision variant saved under another name is found by its LFS sha256.
        const remote = info.files.find((r) => r.sha256 === file.sha256) ?? info.files.find((r) => r.path === file.path && r.size === file.bytes);
        if (!remote) continue;
        // The manifest's sha256 is the check for every file (the Hub publishes none for small files).
        const planned = { path: remote.path, size: file.bytes, sha256: file.sha256, local: file.path, extra: false };
        await downloadFile(planned, { client, repo: src.repo, revision: src.revision, dir: stage, stallMs: opts.stallTimeoutMs ?? DEFAULT_STALL_MS, signal: opts.signal ?? new AbortController().signal, onBytes: () => {} });
        await fs.rename(finalPath(stage, planned), path.join(root, file.path));
        repaired.push(file.path);
      }
    } finally {
      await fs.rm(stage, { recursive: true, force: true });
      await client.close();
    }
  }
  const problems = bad.filter((b) => !repaired.includes(b.file.path)).map((b) => b.problem);
  if (problems.length === 0) {
    // A diffusers pack's sidecar and manifest still agree (catches a manifest edited by hand).
    try {
      if (await isDiffusersPack(root)) await verifyDiffusersPack(root, { hashes: false });
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return { ok: problems.length === 0, problems, repaired };
}
