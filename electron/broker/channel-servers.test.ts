/**
 * The contract's channel table names one server per channel; these tests hold every process to
 * it: each server implements exactly the channels the table assigns it (no missing handler, no
 * stray one), and the broker's routing sends each channel to that server and no other.
 */
import { describe, expect, it } from 'vitest';
import { ok } from '../contract/api.ts';
import type { Result } from '../contract/api.ts';
import { CHANNEL_NAMES, CHANNEL_TABLE, channelsServedBy, SERVERS, serverOf } from '../contract/channels.ts';
import type { ChannelName, ChannelServer } from '../contract/channels.ts';
import type { ImageCodec } from '../engine/images/codec.ts';
import type { OrtRuntime } from '../engine/ort.ts';
import { EngineService } from '../engine/service.ts';
import { autosaveHandlers, dispatch, shellHandlers } from './api.ts';
import type { ShellServices } from './api.ts';
import { BatchManager } from './batch.ts';
import { EngineHost } from './engine-host.ts';
import { HubConfig, sessionVault } from './hub-settings.ts';
import { ModelManager } from './models.ts';
import type { HubClient } from './models.ts';
import { PersonalManager } from './personal.ts';

const shell: ShellServices = { appInfo: { mode: 'cli', version: '0.0.0', nativeDialogs: false, canSaveToPath: true, saveFolder: '/tmp' } };

/** The handler object each server really exposes, built without starting anything. */
function implementations(): Record<ChannelServer, object> {
  const engine = new EngineService({ packDirs: [], runtime: {} as OrtRuntime, codec: {} as ImageCodec, emit: () => {} });
  const personal = new PersonalManager({ runsDir: '/nonexistent/runs', userPacksDir: '/nonexistent/packs', backbonePack: '/nonexistent/backbone', publish: () => {}, rescanPacks: async () => {} });
  const batch = new BatchManager({} as ConstructorParameters<typeof BatchManager>[0], () => {});
  const config = new HubConfig({ vault: sessionVault(), settingsFile: null, env: {} });
  const models = new ModelManager({ userPacksDir: '/nonexistent/packs', bundledPacksDir: '/nonexistent/bundled', config, hub: {} as HubClient, publish: () => {}, rescanPacks: async () => {} });
  return { engine: engine.handlers, shell: shellHandlers(shell), batch: batch.handlers, autosave: autosaveHandlers(shell), personal: personal.handlers, models: models.handlers };
}

describe('the channel table', () => {
  it('gives every channel exactly one known server, and every server some channel', () => {
    const served = SERVERS.flatMap((s) => channelsServedBy(s));
    expect([...served].sort()).toEqual([...CHANNEL_NAMES].sort());
    expect(new Set(served).size).toBe(served.length);
    for (const name of CHANNEL_NAMES) expect(SERVERS).toContain(CHANNEL_TABLE[name]);
    for (const s of SERVERS) expect(channelsServedBy(s).length).toBeGreaterThan(0);
  });

  it.each(SERVERS)('the %s server implements exactly the channels the table assigns it', (server) => {
    const handlers = implementations()[server];
    expect(Object.keys(handlers).sort()).toEqual([...channelsServedBy(server)].sort());
    for (const fn of Object.values(handlers)) expect(typeof fn).toBe('function');
  });
});

describe('broker routing', () => {
  it('forwards exactly the engine channels to the engine; the broker answers the rest itself', async () => {
    const forwarded: ChannelName[] = [];
    const host = {
      request: async (channel: ChannelName): Promise<Result<unknown>> => {
        forwarded.push(channel);
        return ok({});
      },
    } as unknown as EngineHost;
    for (const name of CHANNEL_NAMES) {
      // A payload no schema accepts: a broker server refuses it before any work, so nothing runs.
      const r = await dispatch(host, shell, name, 'not a request');
      if (serverOf(name) !== 'engine') expect(r.ok ? 'ok' : r.error.code, name).toBe('invalid-request');
    }
    expect(forwarded).toEqual(channelsServedBy('engine'));
  });

  it('EngineHost refuses to forward a channel the engine does not serve', async () => {
    const host = new EngineHost({
      spawn: () => {
        throw new Error('a refused request must not start the engine');
      },
    });
    for (const name of CHANNEL_NAMES.filter((c) => serverOf(c) !== 'engine')) {
      const r = await host.request(name, {});
      expect(r.ok ? 'ok' : r.error.code, name).toBe('unsupported');
    }
  });
});
