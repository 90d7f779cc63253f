/**
 * One PyTorch worker process (`python -m codi_torch.worker`): requests go in as frames on
 * stdin, replies come back on stdout, one reply per request, in order. A worker that dies or
 * answers with an error rejects with a one-line message (its stderr tail for crashes).
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrame, FrameReader } from './protocol.ts';
import type { Header, TensorMap } from './protocol.ts';

/** The folder holding the codi_torch package. */
export const TORCH_PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../torch');

/**
 * How the workers' OpenMP threads wait between parallel regions. Spinning is fastest on an idle
 * CPU and ruinous on a busy one, where a spinning thread waits for a descheduled peer: a small-net
 * CoDi step (2 cores) ran at 96 samples/s spinning vs 37 passive when the machine was free, and at
 * 1.1 spinning vs 38 passive at a load of 12. So: passive when other work already wants half the
 * cores, OpenMP's default (a bounded spin) otherwise; an OMP_WAIT_POLICY the user set wins.
 */
export function ompWaitEnv(env: NodeJS.ProcessEnv = process.env, load = competingLoad(), cores = os.availableParallelism()): Record<string, string> {
  if (env.OMP_WAIT_POLICY) return {};
  return load >= cores / 2 ? { OMP_WAIT_POLICY: 'PASSIVE' } : {};
}

/**
 * How many other tasks want a CPU as the worker starts. The 1-minute load average remembers the
 * last minute, this process's own work included (in the bench, the TF.js or previous torch phase
 * just before), which made a worker wait passively on a machine nobody else was using: a replayed
 * small-net step took 175 ms with OpenMP's default waits vs 274-316 ms passive at a load average
 * of 3-4 with 0-2 tasks actually runnable. So on Linux the kernel's count of runnable tasks now
 * (/proc/loadavg's fourth field) is sampled a few times, less the reading thread itself; where
 * there is no /proc the load average stands in.
 */
export function competingLoad(readLoadavg: () => string = () => readFileSync('/proc/loadavg', 'utf8'), samples = 5, gapMs = 10): number {
  const counts: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      if (i > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, gapMs);
      const running = Number(readLoadavg().split(/\s+/)[3]?.split('/')[0]);
      if (!Number.isFinite(running)) return os.loadavg()[0] ?? 0;
      counts.push(Math.max(0, running - 1));
    }
  } catch {
    return os.loadavg()[0] ?? 0;
  }
  counts.sort((a, b) => a - b);
  return counts[Math.floor(counts.length / 2)] ?? 0;
}

export interface Reply {
  header: Header;
  tensors: TensorMap;
}

/** One worker as the driver sees it, whether a local child process or a remote rank on a socket. */
export interface WorkerLink {
  request(header: Header, tensors?: TensorMap): Promise<Reply>;
  close(): Promise<void>;
}

/** Replies arrive in request order: one queue of pending requests per worker. */
class ReplyQueue {
  private readonly reader = new FrameReader();
  private readonly pending: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  failed: Error | null = null;

  push(chunk: Buffer): Reply[] {
    const unsolicited: Reply[] = [];
    for (const f of this.reader.push(chunk)) {
      const p = this.pending.shift();
      if (!p) {
        unsolicited.push(f);
        continue;
      }
      if (f.header.ok === false) p.reject(new Error(String(f.header.error)));
      else p.resolve(f);
    }
    return unsolicited;
  }

  wait(): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<Reply>((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  fail(err: Error): void {
    this.failed = err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }
}

/**
 * A rank started elsewhere (`torchrun … -m codi_torch.worker --connect HOST:PORT`, possibly on
 * another machine) that connected to the driver: its first frame says which rank it is.
 */
export class RemoteWorker implements WorkerLink {
  private readonly queue = new ReplyQueue();

  private constructor(
    private readonly socket: Socket,
    readonly rank: number,
    readonly world: number,
    readonly localRank: number,
  ) {}

  /** Wait for the worker's introduction on a fresh connection. */
  static accept(socket: Socket): Promise<RemoteWorker> {
    return new Promise((resolve, reject) => {
      const queue = new ReplyQueue();
      const onData = (chunk: Buffer) => {
        // (a worker speaks only when asked after this, so nothing follows the introduction)
        const [intro] = queue.push(chunk);
        if (!intro) return;
        socket.off('data', onData);
        const h = intro.header;
        const w = new RemoteWorker(socket, Number(h.rank), Number(h.world), Number(h.localRank ?? 0));
        w.listen();
        resolve(w);
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('a torch worker connected and left before saying which rank it is')));
    });
  }

  private listen(): void {
    this.socket.on('data', (chunk: Buffer) => void this.queue.push(chunk));
    this.socket.on('error', () => {});
    this.socket.on('close', () => this.queue.fail(new Error(`the torch worker of rank ${this.rank} disconnected`)));
  }

  request(header: Header, tensors?: TensorMap): Promise<Reply> {
    const reply = this.queue.wait();
    if (!this.queue.failed) this.socket.write(encodeFrame(header, tensors));
    return reply;
  }

  async close(graceMs = 5000): Promise<void> {
    if (this.queue.failed) return;
    const done = new Promise<void>((r) => this.socket.once('close', () => r()));
    this.request({ cmd: 'exit' }).catch(() => {});
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    await done;
    clearTimeout(timer);
  }
}

export class TorchWorker implements WorkerLink {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly reader = new FrameReader();
  private readonly pending: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private stderrTail = '';
  private exited: Error | null = null;

  constructor(python: string, env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(python, ['-m', 'codi_torch.worker'], {
      cwd: TORCH_PACKAGE_DIR,
      env: { ...process.env, ...ompWaitEnv(), PYTHONPATH: TORCH_PACKAGE_DIR, PYTHONUNBUFFERED: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (chunk: Buffer) => {
      for (const f of this.reader.push(chunk)) {
        const p = this.pending.shift();
        if (!p) continue;
        if (f.header.ok === false) p.reject(new Error(String(f.header.error)));
        else p.resolve(f);
      }
    });
    this.proc.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    const fail = (err: Error) => {
      this.exited = err;
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    this.proc.on('error', (err) => fail(new Error(`the torch worker could not start: ${err.message}`)));
    this.proc.on('exit', (code, signal) => {
      const last = this.stderrTail.trim().split('\n').filter(Boolean).at(-1);
      fail(new Error(`the torch worker exited (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}`));
    });
    this.proc.stdin.on('error', () => {});
  }

  request(header: Header, tensors?: TensorMap): Promise<Reply> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<Reply>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.proc.stdin.write(encodeFrame(header, tensors));
    });
  }

  /** Ask the worker to exit and wait for it (kills it after `graceMs`). */
  async close(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.request({ cmd: 'exit' }).catch(() => {});
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(timer);
  }
}
