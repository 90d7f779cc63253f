/**
 * One file from the Hub into the staging folder, resumable: bytes go to `<file>.partial`, a
 * later attempt asks for the rest with an HTTP Range request, and only a file whose sha256 (LFS
 * files) or size (small files) matches the listing is renamed to its final name. A watchdog
 * aborts a response that sends nothing for `stallMs`; the partial stays for the next attempt.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { hubGet, refusal, urlPath } from './http.ts';
import type { HubClient } from './http.ts';
import { HubError } from './types.ts';
import type { PlannedFile } from './select.ts';

export interface DownloadContext {
  client: HubClient;
  repo: string;
  revision: string;
  /** Staging folder of this repo@revision. */
  dir: string;
  stallMs: number;
  signal: AbortSignal;
  /** Called with each chunk's size as it is written. */
  onBytes(n: number): void;
}

export const partialPath = (dir: string, f: PlannedFile) => path.join(dir, `${f.local}.partial`);
export const finalPath = (dir: string, f: PlannedFile) => path.join(dir, f.local);

async function sizeOf(p: string): Promise<number | null> {
  try {
    return (await fs.stat(p)).size;
  } catch {
    return null;
  }
}

/** Bytes of `f` already on disk (complete or partial), for resume and the disk-space preflight. */
export async function bytesOnDisk(dir: string, f: PlannedFile): Promise<number> {
  if ((await sizeOf(finalPath(dir, f))) === f.size) return f.size;
  const part = (await sizeOf(partialPath(dir, f))) ?? 0;
  return part <= f.size ? part : 0;
}

async function hashInto(h: Hash, file: string): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
}

const fmtMB = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);
const fmtSeconds = (ms: number) => (ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`);

/**
 * Download `f` unless its final file is already there. Network drops are retried with Range
 * (`retries` times); a stall, a cancel or a refusal ends the attempt with the partial kept.
 */
export async function downloadFile(f: PlannedFile, ctx: DownloadContext, retries = 3): Promise<void> {
  const final = finalPath(ctx.dir, f);
  // A final file is only ever the rename of a verified partial.
  if ((await sizeOf(final)) === f.size) return;
  await fs.mkdir(path.dirname(final), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await attemptDownload(f, ctx);
      return;
    } catch (err) {
      if (!(err instanceof HubError) || err.code !== 'network' || attempt >= retries || ctx.signal.aborted) throw err;
    }
  }
}

async function attemptDownload(f: PlannedFile, ctx: DownloadContext): Promise<void> {
  const partial = partialPath(ctx.dir, f);
  let have = (await sizeOf(partial)) ?? 0;
  if (have > f.size) {
    await fs.rm(partial);
    have = 0;
  }
  let hash = createHash('sha256');
  // The bytes already here are hashed before asking for the rest: hashing gigabytes must not
  // count against the stall watchdog of the response.
  if (have > 0) await hashInto(hash, partial);
  // An empty file has nothing to fetch, but its (empty) partial must exist to be checked and renamed.
  if (f.size === 0) await fs.writeFile(partial, '');
  if (have < f.size) {
    const stall = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stall.signal]);
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stall.abort(), ctx.stallMs);
    };
    const url = `${ctx.client.base}/${ctx.repo}/resolve/${urlPath(ctx.revision)}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
    const fh = await fs.open(partial, 'a');
    let got = have;
    try {
      arm();
      const res = await hubGet(ctx.client, url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, signal });
      if (res.status === 416 || (res.status === 200 && have > 0)) {
        // The server cannot continue this partial (416) or ignored the range (200): start over.
        await fh.truncate(0);
        ctx.onBytes(-got);
        got = 0;
        hash = createHash('sha256');
        if (res.status === 416) {
          await res.body?.cancel();
          throw new HubError('network', `${ctx.client.origin} could not resume "${f.path}"; starting it again`);
        }
      } else if (res.status === 206) {
        const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1];
        if (Number(start) !== have) {
          await res.body?.cancel();
          await fh.truncate(0);
          ctx.onBytes(-got);
          throw new HubError('network', `${ctx.client.origin} resumed "${f.path}" at the wrong offset; starting it again`);
        }
      } else if (!res.ok) throw await refusal(ctx.client, res, { repo: ctx.repo, what: `"${f.path}"` });
      if (!res.body) throw new HubError('network', `${ctx.client.origin} sent no body for "${f.path}"`);
      for await (const chunk of res.body) {
        arm();
        const buf = chunk as Uint8Array;
        if (got + buf.byteLength > f.size) throw new HubError('checksum', `"${f.path}" is longer than the ${f.size} bytes the Hub lists; nothing was installed`);
        await fh.write(buf);
        hash.update(buf);
        got += buf.byteLength;
        ctx.onBytes(buf.byteLength);
      }
    } catch (err) {
      if (ctx.signal.aborted) throw new HubError('cancelled', 'the pull was cancelled; what was downloaded is kept, so pulling again resumes');
      if (stall.signal.aborted) {
        throw new HubError('stalled', `no data from ${ctx.client.origin} for ${fmtSeconds(ctx.stallMs)} while downloading "${f.path}" (${fmtMB(got)} of ${fmtMB(f.size)}); the partial download is kept: pull again to resume`);
      }
      if (err instanceof HubError) throw err;
      throw new HubError('network', `the download of "${f.path}" broke off after ${fmtMB(got)} of ${fmtMB(f.size)}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
      await fh.close();
    }
    if (got < f.size) throw new HubError('network', `the connection closed after ${fmtMB(got)} of ${fmtMB(f.size)} of "${f.path}"`);
  }
  await verifyPartial(f, partial, hash.digest('hex'));
  await fs.rename(partial, finalPath(ctx.dir, f));
}

async function verifyPartial(f: PlannedFile, partial: string, sha256: string): Promise<void> {
  const size = (await sizeOf(partial)) ?? 0;
  const bad = size !== f.size ? `has ${size} bytes, the Hub lists ${f.size}` : f.sha256 && sha256 !== f.sha256 ? `failed its sha256 check (got ${sha256.slice(0, 12)}…, the Hub lists ${f.sha256.slice(0, 12)}…)` : null;
  if (!bad) return;
  // A corrupt partial would fail again on resume: it goes.
  await fs.rm(partial, { force: true });
  throw new HubError('checksum', `"${f.path}" ${bad}: the download was corrupted or the server did not send the listed file; nothing was installed`);
}
