/**
 * Start the engine as a Node child process (web mode, CLI, tests): the same entry file as the
 * Electron utilityProcess, run through tsx, with structured-clone IPC so pixels stay binary.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EngineConfig } from '../engine/protocol.ts';
import type { EngineProcess } from './engine-host.ts';

export const ENGINE_ENTRY = fileURLToPath(new URL('../engine/main.ts', import.meta.url));
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Environment for the engine: only what it needs (it is not sandboxed; keep secrets out). */
export function engineEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  // XDG_DATA_HOME: where the desktop's trash is (a replaced original's bytes are kept there).
  const keep = ['PATH', 'HOME', 'USERPROFILE', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'SYSTEMROOT', 'LD_LIBRARY_PATH', 'CUDA_PATH', 'CODI_EP', 'CODI_PRECISION', 'XDG_DATA_HOME'];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (source[k] !== undefined) env[k] = source[k];
  return env;
}

export interface ForkOptions {
  /** Extra node flags (e.g. --max-old-space-size). */
  execArgv?: string[];
  /** Variables set in the engine's environment on top of engineEnv()'s (e.g. CODI_PRECISION for a bench row). */
  env?: Readonly<Record<string, string>>;
  /** Let the engine's stderr through (default true: its crash messages matter). */
  inheritStderr?: boolean;
}

/** A spawn function for EngineHost that forks the engine with `config`. */
export function forkEngine(config: EngineConfig, options: ForkOptions = {}): () => EngineProcess {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return () => {
    const child = fork(ENGINE_ENTRY, [JSON.stringify(config)], {
      serialization: 'advanced',
      // no V8 GC flag: --single-threaded-gc made a 256² inpaint preview 20–40 ms faster but raised the
      // 2 MP ×4 restore's peak from 1384 to 1528–1669 MiB, over its 1.5 GB budget
      execArgv: ['--import', tsx, ...(options.execArgv ?? [])],
      env: { ...engineEnv(), ...options.env },
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', options.inheritStderr === false ? 'ignore' : 'inherit', 'ipc'],
    });
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    let exited = false;
    child.on('exit', (code, signal) => {
      if (exited) return;
      exited = true;
      for (const l of exitListeners) l(code, signal);
    });
    // A failed spawn emits 'error' without 'exit' in some cases; treat it as an exit.
    child.on('error', () => {
      if (!exited) {
        exited = true;
        for (const l of exitListeners) l(null, 'spawn-error');
      }
    });
    return {
      get pid() {
        return child.pid;
      },
      send: (m) => {
        if (child.connected) child.send(m);
      },
      onMessage: (l) => child.on('message', l),
      onExit: (l) => exitListeners.push(l),
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}
