/**
 * EngineHost's recovery timers against a scripted in-memory engine process (the real engine
 * is exercised in tests/engine/engine.test.ts; here a run that never returns is needed).
 */
import { describe, it, expect } from 'vitest';
import type { CodiEvent } from '../contract/schemas.ts';
import type { EngineToHost, HostToEngine } from '../engine/protocol.ts';
import { EngineHost, engineStatusLine } from './engine-host.ts';
import type { EngineProcess } from './engine-host.ts';

/** An engine that accepts runTool, reports the job running, and then hangs (a stuck ONNX run). */
function hangingEngine(spawned: { count: number; killed: number }): () => EngineProcess {
  return () => {
    spawned.count++;
    let onMsg: (m: unknown) => void = () => {};
    let onExit: (code: number | null, signal: string | null) => void = () => {};
    const emit = (m: EngineToHost) => setTimeout(() => onMsg(m), 0);
    emit({ type: 'ready', provider: 'cpu', tried: ['cpu'], pid: 1000 + spawned.count });
    return {
      pid: 1000 + spawned.count,
      send(m: HostToEngine) {
        if (m.type === 'shutdown') setTimeout(() => onExit(0, null), 0);
        if (m.type !== 'request') return;
        if (m.channel === 'runTool') {
          emit({ type: 'response', id: m.id, result: { ok: true, value: { jobId: 'job_stuck' } } });
          emit({ type: 'job-running', jobId: 'job_stuck' });
        } else if (m.channel === 'cancelJob') {
          emit({ type: 'response', id: m.id, result: { ok: true, value: { state: 'running' } } });
        }
      },
      onMessage: (l) => (onMsg = l),
      onExit: (l) => (onExit = l),
      kill() {
        spawned.killed++;
        setTimeout(() => onExit(null, 'SIGKILL'), 0);
      },
    };
  };
}

function failedEvent(host: EngineHost): Promise<CodiEvent & { type: 'job-failed' }> {
  return new Promise((resolve) => {
    const off = host.onEvent((e) => {
      if (e.type === 'job-failed') {
        off();
        resolve(e);
      }
    });
  });
}

describe('EngineHost last-resort kills', () => {
  it('watchdog: a running job silent for stallTimeoutMs is killed and the engine restarted', async () => {
    const spawned = { count: 0, killed: 0 };
    const host = new EngineHost({ spawn: hangingEngine(spawned), stallTimeoutMs: 50 });
    const failed = failedEvent(host);
    const r = await host.request('runTool', { tool: 'restore', imageId: 'img_a' });
    expect(r.ok).toBe(true);
    const e = await failed;
    expect(e.failed).toMatchObject({ jobId: 'job_stuck', code: 'engine-crashed', cancelled: false });
    expect(e.failed.message).toMatch(/made no progress .* the engine has been restarted/);
    await host.start();
    expect(spawned).toEqual({ count: 2, killed: 1 });
    expect(host.status.state).toBe('ready');
    await host.stop();
  });

  it('cancel: a running job that does not stop within cancelGraceMs is killed and reported cancelled', async () => {
    const spawned = { count: 0, killed: 0 };
    const host = new EngineHost({ spawn: hangingEngine(spawned), cancelGraceMs: 30, stallTimeoutMs: 60_000 });
    const failed = failedEvent(host);
    await host.request('runTool', { tool: 'restore', imageId: 'img_a' });
    await new Promise((r) => setTimeout(r, 5));
    const c = await host.request('cancelJob', { jobId: 'job_stuck' });
    expect(c.ok && c.value.state).toBe('running');
    const e = await failed;
    expect(e.failed).toMatchObject({ jobId: 'job_stuck', code: 'cancelled', cancelled: true });
    expect(spawned.killed).toBe(1);
    await host.start();
    expect(spawned.count).toBe(2);
    await host.stop();
  });

  it('gives up after repeated crashes and says so', async () => {
    let spawns = 0;
    const host = new EngineHost({
      maxCrashes: 3,
      spawn: () => {
        spawns++;
        let onExit: (code: number | null, signal: string | null) => void = () => {};
        setTimeout(() => onExit(70, null), 0);
        return { pid: spawns, send() {}, onMessage() {}, onExit: (l) => (onExit = l), kill() {} };
      },
    });
    await host.start();
    expect(spawns).toBe(3);
    expect(host.status.state).toBe('crashed');
    const r = await host.request('listPacks', {});
    expect(!r.ok && r.error.code).toBe('engine-unavailable');
  });
});

describe('engine status on a console', () => {
  function lines(host: EngineHost): string[] {
    const out: string[] = [];
    host.onEvent((e) => {
      const line = e.type === 'engine-status' ? engineStatusLine(e.status) : null;
      if (line) out.push(line);
    });
    return out;
  }

  it('starting, ready and the restart that stops a cancelled job print nothing', async () => {
    const spawned = { count: 0, killed: 0 };
    const host = new EngineHost({ spawn: hangingEngine(spawned), cancelGraceMs: 30, stallTimeoutMs: 60_000 });
    const printed = lines(host);
    const failed = failedEvent(host);
    await host.request('runTool', { tool: 'restore', imageId: 'img_a' });
    await host.request('cancelJob', { jobId: 'job_stuck' });
    await failed;
    await host.start();
    expect(spawned.count).toBe(2);
    expect(printed).toEqual([]);
    await host.stop();
  });

  it('a crash says why the engine restarted, and giving up says so', async () => {
    const host = new EngineHost({
      maxCrashes: 2,
      spawn: () => {
        let onExit: (code: number | null, signal: string | null) => void = () => {};
        setTimeout(() => onExit(70, null), 0);
        return { pid: 1, send() {}, onMessage() {}, onExit: (l) => (onExit = l), kill() {} };
      },
    });
    const printed = lines(host);
    await host.start();
    expect(printed).toEqual(['engine restarting: the engine stopped unexpectedly (exit code 70)', 'engine crashed: the engine crashed 2 times in a row (exit code 70)']);
  });
});
