/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1 (port 0): the parts of its HTTP API a pull
 * uses, with the Hub's response shapes, serving repositories held in memory.
 *
 *   GET /api/models/{owner}/{name}/revision/{rev}             model info (sha, gated, cardData.license, tags)
 *   GET /api/models/{owner}/{name}/tree/{rev}?recursive=true  file list, paged with Link: <…>; rel="next"
 *   GET /{owner}/{name}/resolve/{rev}/{path}                   small files directly; LFS files (.onnx,
 *        .onnx_data, big files) by a 302 to a second server (the "CDN", another origin), as the Hub does
 *
 * Both servers honour Range (206 / 416). Switches make it misbehave the ways a real network does:
 * a gated repo that needs a token, a file served corrupted, a stall after N bytes, a connection
 * killed at 50 %, a listing with an escaping path, sizes too big for any disk, a throttle.
 * Counters record the body bytes served per file and every request (with its Authorization).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeTinyControlNet, writeTinyPipeline } from '../fixtures-gen/diffusers-tiny.ts';

export interface MockRepo {
  /** owner/name */
  repo: string;
  files: Map<string, Buffer>;
  licence?: string | null;
  gated?: false | 'auto' | 'manual';
  /** For a gated repo: the token that has been granted access. */
  token?: string;
}

export interface MockSwitches {
  /** Paths served with one byte flipped (the listing keeps the true sha256). */
  corrupt?: string[];
  /** Serve this many bytes of the file, then send nothing more (the socket stays open). */
  stallAfterBytes?: { path: string; bytes: number };
  /** Close the connection halfway through the file, the first `times` requests (default 1). */
  killAtHalf?: { path: string; times?: number };
  /** The listing also names "../escape.onnx". */
  escapeEntry?: boolean;
  /** The listing says unet/model.onnx_data is a petabyte. */
  hugeSizes?: boolean;
  /** Body bytes per second per response (for cancelling mid-download). */
  bytesPerSecond?: number;
  /** Tree entries per page (default 5, so listings are paged). */
  pageSize?: number;
  /** Answer Range requests with the whole file (200), as some mirrors and proxies do. */
  ignoreRange?: boolean;
}

export interface MockRequest {
  method: string;
  url: string;
  range: string | null;
  authorization: string | null;
  /** 'hub' or 'cdn': which origin was asked. */
  server: 'hub' | 'cdn';
}

const CHUNK = 1024;
const isLfs = (p: string, size: number) => /\.onnx(_data)?$/.test(p) || size >= 64 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The git blob id the Hub lists as `oid` for a small file. */
const gitOid = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export class MockHub {
  readonly repos = new Map<string, MockRepo & { sha: string }>();
  switches: MockSwitches = {};
  /** Body bytes served per repository path (all repos), across both servers. */
  readonly bytesServed = new Map<string, number>();
  readonly requests: MockRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private killed = new Map<string, number>();
  private hub!: http.Server;
  private cdn!: http.Server;
  url = '';
  cdnUrl = '';

  add(repo: MockRepo): void {
    const sha = createHash('sha1').update(repo.repo).update(String(this.repos.size)).digest('hex');
    this.repos.set(repo.repo, { ...repo, sha });
  }

  /** The commit sha the mock gives a repository. */
  shaOf(repo: string): string {
    const r = this.repos.get(repo);
    if (!r) throw new Error(`no mock repo ${repo}`);
    return r.sha;
  }

  served(p: string): number {
    return this.bytesServed.get(p) ?? 0;
  }

  totalServed(): number {
    return [...this.bytesServed.values()].reduce((a, b) => a + b, 0);
  }

  resetCounters(): void {
    this.bytesServed.clear();
    this.requests.length = 0;
  }

  async start(): Promise<this> {
    this.hub = http.createServer((req, res) => void this.onHub(req, res));
    this.cdn = http.createServer((req, res) => void this.onCdn(req, res));
    for (const s of [this.hub, this.cdn]) {
      s.on('connection', (sock) => {
        this.sockets.add(sock);
        sock.on('close', () => this.sockets.delete(sock));
      });
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    }
    this.url = `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
    this.cdnUrl = `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([this.hub, this.cdn].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private record(req: http.IncomingMessage, server: 'hub' | 'cdn'): void {
    this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '', range: req.headers.range ?? null, authorization: req.headers.authorization ?? null, server });
  }

  private notFound(res: http.ServerResponse, code: string, message: string): void {
    res.writeHead(404, { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': message });
    res.end(JSON.stringify({ error: message }));
  }

  private findRepo(owner: string, name: string, rev: string, res: http.ServerResponse): (MockRepo & { sha: string }) | null {
    const repo = this.repos.get(`${owner}/${name}`);
    if (!repo) {
      // The Hub answers 401 RepoNotFound to anonymous requests for unknown (or private) repos.
      res.writeHead(401, { 'content-type': 'application/json', 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' });
      res.end(JSON.stringify({ error: 'Repository not found' }));
      return null;
    }
    if (rev !== 'main' && rev !== repo.sha) {
      this.notFound(res, 'RevisionNotFound', 'Invalid rev id');
      return null;
    }
    return repo;
  }

  private listing(repo: MockRepo & { sha: string }): unknown[] {
    const entries: unknown[] = [];
    const dirs = new Set<string>();
    for (const [p, b] of [...repo.files.entries()].sort(([a], [c]) => a.localeCompare(c))) {
      const dir = path.posix.dirname(p);
      if (dir !== '.' && !dirs.has(dir)) {
        dirs.add(dir);
        entries.push({ type: 'directory', oid: gitOid(Buffer.from(dir)), size: 0, path: dir });
      }
      const size = this.switches.hugeSizes && p === 'unet/model.onnx_data' ? 1e15 : b.length;
      entries.push({ type: 'file', oid: gitOid(b), size, path: p, ...(isLfs(p, b.length) ? { lfs: { oid: sha256(b), size, pointerSize: 134 } } : {}) });
    }
    if (this.switches.escapeEntry) {
      const evil = Buffer.from('not a model');
      entries.push({ type: 'file', oid: gitOid(evil), size: evil.length, path: '../escape.onnx', lfs: { oid: sha256(evil), size: evil.length, pointerSize: 134 } });
    }
    return entries;
  }

  private async onHub(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.record(req, 'hub');
    const url = new URL(req.url ?? '/', this.url);
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (parts[0] === 'api' && parts[1] === 'models' && parts.length === 6 && parts[4] === 'revision') {
      const repo = this.findRepo(parts[2] as string, parts[3] as string, parts[5] as string, res);
      if (!repo) return;
      const licence = repo.licence === undefined ? 'mit' : repo.licence;
      const body = {
        _id: repo.sha.slice(0, 24),
        id: repo.repo,
        modelId: repo.repo,
        sha: repo.sha,
        private: false,
        disabled: false,
        gated: repo.gated ?? false,
        pipeline_tag: 'text-to-image',
        tags: ['diffusers', 'onnx', ...(licence ? [`license:${licence}`] : [])],
        cardData: licence ? { license: licence } : {},
        siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return;
    }
    if (parts[0] === 'api' && parts[1] === 'models' && parts.length === 6 && parts[4] === 'tree') {
      const repo = this.findRepo(parts[2] as string, parts[3] as string, parts[5] as string, res);
      if (!repo) return;
      const all = this.listing(repo);
      const size = this.switches.pageSize ?? 5;
      const at = Number(url.searchParams.get('cursor') ?? 0);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (at + size < all.length) {
        const next = new URL(url);
        next.searchParams.set('cursor', String(at + size));
        headers.link = `<${next.href}>; rel="next"`;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify(all.slice(at, at + size)));
      return;
    }
    if (parts.length >= 5 && parts[2] === 'resolve') {
      const repo = this.findRepo(parts[0] as string, parts[1] as string, parts[3] as string, res);
      if (!repo) return;
      if (repo.gated) {
        const auth = req.headers.authorization;
        if (!auth || auth !== `Bearer ${repo.token}`) {
          const status = auth ? 403 : 401;
          res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': 'GatedRepo', 'x-error-message': 'Access to this model is restricted' });
          res.end(JSON.stringify({ error: 'Access to this model is restricted' }));
          return;
        }
      }
      const file = parts.slice(4).join('/');
      const bytes = repo.files.get(file);
      if (!bytes) return this.notFound(res, 'EntryNotFound', `${file} does not exist`);
      if (isLfs(file, bytes.length)) {
        // Signed CDN URL on another origin: the client must not send its token there.
        res.writeHead(302, { location: `${this.cdnUrl}/${repo.repo}/${sha256(bytes)}?file=${encodeURIComponent(file)}` });
        res.end();
        return;
      }
      await this.send(req, res, file, bytes);
      return;
    }
    res.writeHead(404);
    res.end();
  }

  private async onCdn(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.record(req, 'cdn');
    const url = new URL(req.url ?? '/', this.cdnUrl);
    const file = url.searchParams.get('file') ?? '';
    const repoName = url.pathname.split('/').slice(1, 3).join('/');
    const bytes = this.repos.get(repoName)?.files.get(file);
    if (!bytes) {
      res.writeHead(404);
      res.end();
      return;
    }
    await this.send(req, res, file, bytes);
  }

  /** Serve `bytes` (Range-aware) in small chunks, applying the switches. */
  private async send(req: http.IncomingMessage, res: http.ServerResponse, file: string, original: Buffer): Promise<void> {
    let bytes = original;
    if (this.switches.corrupt?.includes(file)) {
      bytes = Buffer.from(original);
      const i = bytes.length >> 1;
      bytes[i] = (bytes[i] as number) ^ 0xff;
    }
    let start = 0;
    const m = this.switches.ignoreRange ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      start = Number(m[1]);
      if (start >= bytes.length) {
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
        res.end();
        return;
      }
    }
    const end = m && m[2] ? Math.min(Number(m[2]) + 1, bytes.length) : bytes.length;
    const headers = { 'content-length': String(end - start), 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag: `"${sha256(original)}"` };
    if (m) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end - 1}/${bytes.length}` });
    else res.writeHead(200, headers);

    const stall = this.switches.stallAfterBytes?.path === file ? this.switches.stallAfterBytes.bytes : Infinity;
    const kill = this.switches.killAtHalf;
    const killAt = kill?.path === file && (this.killed.get(file) ?? 0) < (kill.times ?? 1) ? bytes.length >> 1 : Infinity;
    const rate = this.switches.bytesPerSecond;
    for (let at = start; at < end; ) {
      if (res.destroyed) return;
      const stop = Math.min(end, at + CHUNK, stall > at ? stall : at, killAt > at ? killAt : at);
      if (stop <= at) {
        if (killAt <= at) {
          this.killed.set(file, (this.killed.get(file) ?? 0) + 1);
          res.socket?.destroy();
        }
        // A stall: the headers and some bytes went out, then nothing until the client gives up.
        return;
      }
      const chunk = bytes.subarray(at, stop);
      // Waiting for each write to reach the socket makes the counters exact: a killed connection
      // has delivered every byte counted before it was cut.
      await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
      this.bytesServed.set(file, (this.bytesServed.get(file) ?? 0) + chunk.length);
      at = stop;
      if (rate) await new Promise((r) => setTimeout(r, (chunk.length / rate) * 1000));
    }
    res.end();
  }
}

/** Every file of a folder, by forward-slash relative path. */
export async function readTree(dir: string, rel = '', out = new Map<string, Buffer>()): Promise<Map<string, Buffer>> {
  for (const e of (await readdir(path.join(dir, rel))).sort()) {
    const r = rel ? `${rel}/${e}` : e;
    if ((await stat(path.join(dir, r))).isDirectory()) await readTree(dir, r, out);
    else out.set(r, await readFile(path.join(dir, r)));
  }
  return out;
}

/**
 * A tiny diffusers ONNX pipeline (tests/fixtures-gen/diffusers-tiny.ts) as a Hub repository's
 * files, with what real repositories carry besides: a model card, a licence text and PyTorch
 * weights the pull must leave alone.
 */
export async function tinyRepoFiles(options: { licence?: string | null; inChannels?: 4 | 8 | 9; residuals?: boolean } = {}): Promise<Map<string, Buffer>> {
  const licence = options.licence === undefined ? 'mit' : options.licence;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-mock-hub-'));
  try {
    // Default: an inpainting pipeline (9-channel UNet), so `codi run <pack>` can use what was pulled.
    await writeTinyPipeline(tmp, { unet: { inChannels: options.inChannels ?? 9, timestep: 'float32', residuals: options.residuals ?? false } });
    const files = await readTree(tmp);
    files.set('README.md', Buffer.from(`---\nlicense: ${licence ?? ''}\nlibrary_name: diffusers\n---\n\n# Tiny test pipeline\n\nRandom weights, for tests only.\n`));
    files.set('LICENSE', Buffer.from('Permission is hereby granted, free of charge, to any person obtaining a copy of this test fixture.\n'));
    files.set('unet/diffusion_pytorch_model.safetensors', Buffer.alloc(4096, 7));
    return files;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A tiny ControlNet repository (controlnet/ + model_index.json), for a backbone with residual inputs. */
export async function tinyControlNetFiles(): Promise<Map<string, Buffer>> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-mock-hub-'));
  try {
    await writeTinyControlNet(tmp, { timestep: 'float32' });
    return await readTree(tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Start a mock Hub. */
export async function startMockHub(repos: MockRepo[] = []): Promise<MockHub> {
  const hub = await new MockHub().start();
  for (const r of repos) hub.add(r);
  return hub;
}
