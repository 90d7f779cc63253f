/**
 * Engine process entry: the same file runs as an Electron utilityProcess (app) and as a
 * `child_process.fork` child with `serialization: 'advanced'` (web mode, CLI, tests).
 * Configuration arrives as JSON in argv[2]; requests are validated with the contract schemas
 * before any handler sees them.
 */
import { fail, serve } from '../contract/api.ts';
import type { Result } from '../contract/api.ts';
import { isChannelName, isServedBy } from '../contract/channels.ts';
import { createImageCodec } from './images/codec.ts';
import { OrtRuntime, parseProviderList } from './ort.ts';
import type { EngineConfig, EngineToHost, HostToEngine } from './protocol.ts';
import { EngineService } from './service.ts';

interface ParentPortLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

function connect(): { send(m: EngineToHost): void; onMessage(fn: (m: unknown) => void): void } {
  const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (parentPort) {
    return { send: (m) => parentPort.postMessage(m), onMessage: (fn) => parentPort.on('message', (e) => fn(e.data)) };
  }
  if (process.send) {
    // The broker went away: nothing left to serve.
    process.on('disconnect', () => process.exit(0));
    return { send: (m) => void process.send?.(m), onMessage: (fn) => process.on('message', fn) };
  }
  throw new Error('the engine must be started by EngineHost (no parent channel)');
}

function readConfig(): EngineConfig {
  const raw = process.argv[2];
  const cfg = (raw ? JSON.parse(raw) : {}) as EngineConfig;
  return { ...cfg, packDirs: Array.isArray(cfg.packDirs) ? cfg.packDirs : [] };
}

async function main(): Promise<void> {
  const link = connect();
  const cfg = readConfig();
  const runtime = new OrtRuntime({ providers: cfg.providers ?? parseProviderList(process.env.CODI_EP), threads: cfg.threads });
  const service = new EngineService({
    packDirs: cfg.packDirs,
    runtime,
    codec: createImageCodec({ maxPixels: cfg.maxInputPixels }),
    emit: (event) => link.send({ type: 'event', event }),
    onJobRunning: (jobId) => link.send({ type: 'job-running', jobId }),
    imageBudgetBytes: cfg.imageBudgetBytes,
    maxTile: cfg.maxTile,
  });
  link.onMessage((raw) => {
    const m = raw as HostToEngine;
    if (m?.type === 'shutdown') process.exit(0);
    if (m?.type === 'restore-image') {
      void service.restoreImage(m.imageId, m.source).then((result) => link.send({ type: 'response', id: m.id, result }));
      return;
    }
    if (m?.type !== 'request') return;
    void handle(service, m.channel, m.payload).then((result) => link.send({ type: 'response', id: m.id, result }));
  });
  await service.init();
  const info = runtime.providerInfo();
  link.send({ type: 'ready', provider: info.active, tried: info.tried, pid: process.pid });
}

async function handle(service: EngineService, channel: unknown, payload: unknown): Promise<Result<unknown>> {
  if (!isChannelName(channel) || !isServedBy(channel, 'engine')) {
    return fail('invalid-request', `the engine does not serve "${String(channel)}"`);
  }
  try {
    return await serve(service.handlers, channel, payload);
  } catch (err) {
    return fail('internal', (err as Error)?.message ?? String(err));
  }
}

main().catch((err: unknown) => {
  console.error('[engine] failed to start:', err);
  process.exit(70);
});
