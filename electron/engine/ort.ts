/**
 * The ONLY module that imports onnxruntime-node (lint-enforced). Everything else in the engine
 * talks to ONNX Runtime through {@link OrtRuntime} and plain Float32Array tensors, so the
 * runtime can be swapped or mocked at one seam.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from '../contract/schemas.ts';
import { absentProviders, defaultProviderOrder, systemProviderHost } from './providers.ts';
import type { ProviderHost } from './providers.ts';

export { defaultProviderOrder, parseProviderList } from './providers.ts';

/** A float32 tensor as the engine passes it around: data + dims (NCHW for images). */
export interface OrtTensorIn {
  data: Float32Array;
  dims: readonly number[];
}

/** One ONNX graph loaded into a session, reusable across runs. */
export interface LoadedSession {
  readonly key: string;
  readonly provider: ExecutionProvider;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Run the graph; only float32 inputs/outputs (the project's graphs are float32 throughout). */
  run(feeds: Record<string, OrtTensorIn>): Promise<Record<string, OrtTensorIn>>;
  /** Free the native session. */
  release(): Promise<void>;
}

/**
 * An ONNX external-data file handed to ONNX Runtime in memory: `path` is the `location` the
 * model's tensors name, `data` the file's (already verified) bytes. This is how graphs over the
 * 2 GiB protobuf limit load without ORT reading anything from disk itself.
 */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

export interface ProviderChoice {
  active: ExecutionProvider;
  tried: string[];
  note?: string;
}

export interface OrtRuntimeOptions {
  /** Providers to try, in order; default: {@link defaultProviderOrder}. CPU is always the last resort. */
  providers?: readonly ExecutionProvider[];
  /** Intra-op threads; default = logical cores. */
  threads?: number;
  /** Where to look for provider libraries; default: this machine. */
  host?: ProviderHost;
}

/** onnxruntime-node's native folder (binding, libonnxruntime and any provider libraries). */
function ortBinDir(): string {
  const pkg = path.dirname(path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
  return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * ONNX Runtime's own logger writes every session error to stderr as well as throwing it; every
 * error that matters reaches the engine as the thrown one (and from there the job's message or
 * the provider note), so the native copy only prints C++ diagnostics at the user. Set before the
 * first session (ORT reads it once); CODI_ORT_LOG (verbose, info, warning, error) brings it back.
 */
function quietNativeLog(env: NodeJS.ProcessEnv = process.env): void {
  const wanted = env.CODI_ORT_LOG;
  ort.env.logLevel = wanted === 'verbose' || wanted === 'info' || wanted === 'warning' || wanted === 'error' ? wanted : 'fatal';
}

/** Providers this onnxruntime-node install ships (bundled) or may load (installed on demand). */
function installedBackends(): Map<string, boolean> {
  const map = new Map<string, boolean>();
  try {
    for (const b of ort.listSupportedBackends()) map.set(b.name, b.bundled);
  } catch {
    map.set('cpu', true);
  }
  return map;
}

/**
 * Session factory and cache. Sessions are keyed by the caller (the file's sha256), created once
 * and reused. The first provider that creates a session successfully is remembered and tried
 * first for later graphs; a failing graph falls back down the list to CPU.
 */
/**
 * Default intra-op threads: every core but one. The packs' convolutions are small (48–96
 * channels), so ORT's thread hand-offs cost more than the second core gives: on the 2-core
 * machine one network eval took 68 ms with 1 thread and 86 ms with 2, and interactive inpaint
 * (4 steps) 370 vs 454 ms p50 (npm run bench, 2026-11-26). The spare core keeps the UI and the
 * main process responsive. CODI_THREADS overrides.
 */
export function defaultIntraOpThreads(cores: number): number {
  return Math.max(1, cores - 1);
}

export class OrtRuntime {
  private readonly order: ExecutionProvider[];
  /** Providers left out because they cannot load here, with the plain reason. */
  private readonly skipped: Map<ExecutionProvider, string>;
  private readonly threads: number;
  private readonly sessions = new Map<string, Promise<LoadedSession>>();
  private readonly tried = new Set<string>();
  private working: ExecutionProvider | undefined;
  private lastNote: string | undefined;

  constructor(options: OrtRuntimeOptions = {}) {
    quietNativeLog();
    const wanted = options.providers ?? defaultProviderOrder();
    const installed = installedBackends();
    // 'dml' and 'coreml' are not listed by listSupportedBackends on every build; keep them when asked.
    const listed = wanted.filter((p) => p === 'cpu' || p === 'dml' || p === 'coreml' || installed.has(p));
    this.skipped = absentProviders(listed, options.host ?? systemProviderHost(ortBinDir()));
    this.order = listed.filter((p) => !this.skipped.has(p));
    if (!this.order.includes('cpu')) this.order.push('cpu');
    this.threads = Math.max(1, options.threads ?? defaultIntraOpThreads(os.availableParallelism()));
  }

  /**
   * The provider in use (the one that loaded the latest graph), or the first candidate before any
   * load; the note says in one plain line why the better ones are not used.
   */
  providerInfo(): ProviderChoice {
    const skipped = [...this.skipped].map(([p, why]) => `${p}: ${why}`);
    const parts = this.working ? [this.lastNote, ...skipped] : [`no model loaded yet; will try ${this.order.join(', ')}`, ...skipped];
    const note = parts.filter(Boolean).join('; ');
    return {
      active: this.working ?? this.order[0] ?? 'cpu',
      tried: [...this.tried],
      ...(note ? { note } : {}),
    };
  }

  /**
   * Get or create the session for `key` from the verified model bytes, plus the verified bytes
   * of its external-data files when the model keeps its weights outside the protobuf.
   */
  load(key: string, model: Uint8Array, externalData?: readonly ExternalDataFile[]): Promise<LoadedSession> {
    let p = this.sessions.get(key);
    if (!p) {
      p = this.create(key, model, externalData);
      this.sessions.set(key, p);
      p.catch(() => this.sessions.delete(key));
    }
    return p;
  }

  /** Drop every cached session (ORT frees native memory on release). */
  async releaseAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) {
      try {
        await (await p).release();
      } catch {
        // a failed load has nothing to release
      }
    }
  }

  private async create(key: string, model: Uint8Array, externalData?: readonly ExternalDataFile[]): Promise<LoadedSession> {
    const candidates = this.working ? [this.working, ...this.order.filter((p) => p !== this.working)] : this.order;
    const errors: string[] = [];
    for (const provider of candidates) {
      this.tried.add(provider);
      try {
        const session = await ort.InferenceSession.create(model, {
          executionProviders: [provider],
          graphOptimizationLevel: 'all',
          intraOpNumThreads: this.threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          // ONNX Runtime's pool threads spin after each run by default, and on a 2-core machine that takes the core
          // the engine's own work between model calls (the classic fill, layout, compose) needs: with spinning off the
          // 256² inpaint preview measured p50 129–131 ms against 146–157 ms, and the 2 MP ×4 restore kept its time
          // (33–36 s) and its peak (1338–1341 MiB) with bit-identical pixels (bench/results/2026-12-06-ort-spinning.md)
          extra: { session: { intra_op: { allow_spinning: '0' } } },
          ...(externalData?.length ? { externalData: externalData.map((f) => ({ path: f.path, data: f.data })) } : {}),
        });
        if (this.working !== provider && errors.length > 0) this.lastNote = errors.join('; ');
        this.working = provider;
        return wrap(key, provider, session);
      } catch (err) {
        errors.push(`${provider}: ${plainReason(err)}`);
      }
    }
    throw new Error(`ONNX Runtime could not load the model with any execution provider: ${errors.join('; ')}`);
  }
}

function wrap(key: string, provider: ExecutionProvider, session: ort.InferenceSession): LoadedSession {
  return {
    key,
    provider,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, [...t.dims]);
      const out = await session.run(ortFeeds);
      const result: Record<string, OrtTensorIn> = {};
      for (const [name, t] of Object.entries(out)) {
        if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}, expected float32`);
        result[name] = { data: t.data as Float32Array, dims: t.dims };
        // the ort.Tensor wrapper holds no native memory on CPU; data is a plain Float32Array
      }
      return result;
    },
    release: () => session.release(),
  };
}

/** True when an ORT error is an allocation failure (retry with smaller tiles). */
export function isAllocationError(err: unknown): boolean {
  const msg = String((err as Error)?.message ?? err).toLowerCase();
  return /alloc|out of memory|oom|bad_alloc|cudaerrormemory|insufficient memory/.test(msg);
}

/**
 * An ORT error in one plain line: ORT prefixes its checks with the C++ source location and
 * signature ("…/webgpu_context.cc:136 onnxruntime::… adapter_result.status == … was false.
 * Failed to get a WebGPU adapter: No supported adapters"); keep what follows the failed check.
 */
export function plainReason(err: unknown): string {
  const line = String((err as Error)?.message ?? err).split('\n')[0] ?? '';
  const afterCheck = /\bwas false\.\s*(.+)$/.exec(line)?.[1];
  const text = (afterCheck ?? line.replace(/^\S+\.(?:cc|cpp|h):\d+\s+/, '')).trim();
  return text.slice(0, 200) || 'unknown error';
}
