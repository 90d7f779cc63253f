/**
 * Shared pieces of the fault-injection suite: the "originals are byte-identical" ledger, a
 * WebSocket client that speaks the contract like the renderer does, and a real engine behind
 * the real web server. Every case that touches user files registers them with the ledger and
 * checks it at the end.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { EngineHost } from '../../electron/broker/engine-host.ts';
import type { EngineHostOptions } from '../../electron/broker/engine-host.ts';
import { forkEngine } from '../../electron/broker/fork.ts';
import type { Result } from '../../electron/contract/api.ts';
import { CHANNELS } from '../../electron/contract/channels.ts';
import type { ChannelName } from '../../electron/contract/channels.ts';
import type { CodiEvent, JobDone, JobFailed } from '../../electron/contract/schemas.ts';
import { decodeFrame, encodeFrame } from '../../electron/contract/wire.ts';
import type { ServerMessage } from '../../electron/contract/wire.ts';
import type { EngineConfig } from '../../electron/engine/protocol.ts';
import { startWebServer } from '../../electron/web/server.ts';
import type { WebServer } from '../../electron/web/server.ts';
import { sessionCookieName } from '../../electron/web/session.ts';

/** Long cases (60 s brush stream, …) only run with CODI_FAULTS_FULL=1. */
export const FULL = process.env.CODI_FAULTS_FULL === '1';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Hashes of user files taken before a case; `verify` re-reads them and names any that changed. */
export class OriginalsLedger {
  private readonly hashes = new Map<string, string>();

  async add(...paths: string[]): Promise<void> {
    for (const p of paths) this.hashes.set(p, sha256(await readFile(p)));
  }

  get size(): number {
    return this.hashes.size;
  }

  /** Paths whose bytes differ from when they were added (or that vanished). */
  async changed(): Promise<string[]> {
    const bad: string[] = [];
    for (const [p, h] of this.hashes) {
      const now = await readFile(p).then(sha256, () => 'missing');
      if (now !== h) bad.push(p);
    }
    return bad;
  }
}

/** Session tokens of the servers startStack started, by port: a client connects as the user's page would. */
const sessionTokens = new Map<number, string>();

/** The Cookie header a page that loaded the server's start URL sends (empty for an unknown port). */
export function sessionCookieFor(port: number): Record<string, string> {
  const token = sessionTokens.get(port);
  return token ? { Cookie: `${sessionCookieName(port)}=${token}` } : {};
}

/** A contract client over the web server's WebSocket, as the renderer's engine-client talks. */
export class WsClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Result<unknown>) => void>();
  readonly events: CodiEvent[] = [];
  private readonly listeners = new Set<(e: CodiEvent) => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const msg = decodeFrame(new Uint8Array(data)) as ServerMessage;
      if (msg.t === 'res') {
        this.waiting.get(msg.id)?.(msg.r);
        this.waiting.delete(msg.id);
      } else {
        this.events.push(msg.e);
        for (const l of this.listeners) l(msg.e);
      }
    });
  }

  static connect(port: number, origin = `http://127.0.0.1:${port}`): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { origin, headers: sessionCookieFor(port) });
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
    });
  }

  request<T = unknown>(channel: ChannelName, payload: unknown): Promise<Result<T>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (r: Result<unknown>) => void);
      this.ws.send(encodeFrame({ t: 'req', id, ch: CHANNELS[channel], p: payload }));
    });
  }

  /** Send raw bytes as one binary frame and wait for the next response (malformed frames answer with id -1). */
  sendRaw(bytes: Uint8Array): Promise<Result<unknown>> {
    return new Promise((resolve) => {
      this.waiting.set(-1, resolve);
      this.ws.send(bytes);
    });
  }

  onEvent(l: (e: CodiEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Submit a job and resolve with its end event; `onProgress` may act on progress (kill, stop).
   * Events that race the response are buffered.
   */
  runJob(req: object, onProgress?: (e: CodiEvent & { type: 'job-progress' }) => void): Promise<{ jobId: string; done?: JobDone; failed?: JobFailed }> {
    return new Promise((resolve, reject) => {
      let jobId: string | null = null;
      const early: CodiEvent[] = [];
      const handle = (e: CodiEvent) => {
        if (!jobId) {
          early.push(e);
          return;
        }
        if (e.type === 'job-progress' && e.progress.jobId === jobId) onProgress?.(e);
        if (e.type === 'job-done' && e.done.jobId === jobId) {
          off();
          resolve({ jobId, done: e.done });
        }
        if (e.type === 'job-failed' && e.failed.jobId === jobId) {
          off();
          resolve({ jobId, failed: e.failed });
        }
      };
      const off = this.onEvent(handle);
      void this.request<{ jobId: string }>('runTool', req).then((r) => {
        if (!r.ok) {
          off();
          reject(new Error(r.error.message));
          return;
        }
        jobId = r.value.jobId;
        for (const e of early.splice(0)) handle(e);
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Measure how long the client waits for a trivial round trip (the UI-side responsiveness probe). */
export async function pingMs(client: WsClient): Promise<number> {
  const t0 = performance.now();
  const r = await client.request('getAppInfo', {});
  if (!r.ok) throw new Error(r.error.message);
  return performance.now() - t0;
}

export interface EngineStack {
  host: EngineHost;
  server: WebServer;
  client: WsClient;
  stop(): Promise<void>;
}

/** The real engine (forked) behind the real web server, and one connected client. */
export async function startStack(config: EngineConfig, rendererDir: string, hostOptions: Partial<EngineHostOptions> = {}): Promise<EngineStack> {
  const host = new EngineHost({ spawn: forkEngine(config), ...hostOptions });
  await host.start();
  // Autosaves go next to the test's renderer folder, never to the user's home.
  const server = await startWebServer({ host, rendererDir, port: 0, autosaveDir: path.join(path.dirname(rendererDir), 'autosave') });
  sessionTokens.set(server.port, server.token);
  const client = await WsClient.connect(server.port);
  return {
    host,
    server,
    client,
    stop: async () => {
      client.close();
      sessionTokens.delete(server.port);
      await server.close();
      await host.stop();
    },
  };
}

/** A packless engine stack for the IPC fuzz: a temp folder with an empty `sandbox/` the payloads point into. */
export interface FuzzStack {
  tmp: string;
  sandbox: string;
  stack: EngineStack;
  stop(): Promise<void>;
}

export async function startFuzzStack(prefix: string): Promise<FuzzStack> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), prefix));
  const sandbox = path.join(tmp, 'sandbox');
  await mkdir(sandbox);
  const rendererDir = path.join(tmp, 'renderer');
  await mkdir(rendererDir);
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  const stack = await startStack({ packDirs: [], providers: ['cpu'], threads: 1 }, rendererDir);
  return {
    tmp,
    sandbox,
    stack,
    async stop() {
      await stack.stop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
