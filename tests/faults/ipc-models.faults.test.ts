/**
 * The model manager's channels, fuzzed like every other channel (ipc.faults.test.ts) through the
 * Electron `handle()` wrapper. A schema-valid describeHubRepo or startPull would ask the Hub, so
 * the manager gets a Hub client double that answers as a Hub without the repo would (not found):
 * the fuzz measures validation and the manager's handling, never the network. The oracle adds
 * the token rule: a token set through setHubSettings never comes back in any answer or event.
 * The real client is covered by tests/hub and tests/e2e/models.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/broker/api.ts';
import type { ShellServices } from '../../electron/broker/api.ts';
import type { EngineHost } from '../../electron/broker/engine-host.ts';
import type { HubClient } from '../../electron/broker/models.ts';
import { ok } from '../../electron/contract/api.ts';
import type { Result } from '../../electron/contract/api.ts';
import { CHANNELS, channelsServedBy } from '../../electron/contract/channels.ts';
import type { ChannelName } from '../../electron/contract/channels.ts';
import { SCHEMAS } from '../../electron/contract/schemas.ts';
import type { CodiEvent } from '../../electron/contract/schemas.ts';
import { HubError } from '../../electron/hub/types.ts';
import type { IpcMainInvokeEventLike } from '../../electron/main/electron-types.ts';
import { createHandle } from '../../electron/main/ipc.ts';
import { APP_URL } from '../../electron/main/security.ts';
import { FULL } from './harness.ts';
import { fuzzPayload, Prng, prototypeFingerprint, templates } from './fuzz.ts';

const MODELS: readonly ChannelName[] = channelsServedBy('models');
const IPC_N = FULL ? 10_000 : 1_500;
const SEED = 20240613;

let tmp: string;
const fingerprint = prototypeFingerprint();
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'codi-faults-ipc-models-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('faults: IPC fuzzing of the model-manager channels', () => {
  it(`ipc-fuzz-models: ${IPC_N} hostile payloads per model-manager channel through handle() are refused by validation; a token set is never answered back`, async () => {
    const userPacks = path.join(tmp, 'user-packs');
    const hubCalls = { describe: 0, pull: 0 };
    const missing = () => new HubError('not-found', 'no such repository (fuzz double)');
    const hub: HubClient = {
      describeRepo: async () => (hubCalls.describe++, Promise.reject(missing())),
      selectFiles: () => [],
      mustAccept: () => null,
      pullPack: async () => (hubCalls.pull++, Promise.reject(missing())),
      verifyPack: async () => ({ ok: true, problems: [], repaired: [] }),
      removePack: async () => {},
    };
    const events: CodiEvent[] = [];
    const host = { request: async () => ok({}), publish: (e: CodiEvent) => events.push(e) } as unknown as EngineHost;
    const shell: ShellServices = {
      appInfo: { mode: 'electron', version: 'fuzz', nativeDialogs: false, canSaveToPath: true },
      models: { userPacksDir: userPacks, bundledPacksDir: path.join(tmp, 'bundled'), settingsFile: path.join(tmp, 'hub-settings.json'), hub },
    };
    const registered = new Map<string, (e: IpcMainInvokeEventLike, payload: unknown) => Promise<Result<unknown>>>();
    const handle = createHandle({ handle: (ch, fn) => registered.set(ch, fn as never) });
    for (const name of MODELS) handle(CHANNELS[name], SCHEMAS[name].request, (p) => dispatch(host, shell, name, p));
    const event = { senderFrame: { url: APP_URL, parent: null } } as unknown as IpcMainInvokeEventLike;
    const r = new Prng(SEED);
    const tpl = templates(path.join(tmp, 'sandbox'));
    const tokens = new Set<string>();
    let refused = 0;
    let accepted = 0;
    for (const name of MODELS) {
      const fn = registered.get(CHANNELS[name])!;
      for (let i = 0; i < IPC_N; i++) {
        // every tenth setHubSettings sets a token the answers must then keep to themselves
        const payload = name === 'setHubSettings' && i % 10 === 0 ? { token: `hf_fuzz${r.int(1e9)}x${i}` } : fuzzPayload(r, tpl[name]);
        const valid = SCHEMAS[name].request.safeParse(payload ?? {}).success;
        const token = (payload as { token?: unknown } | null | undefined)?.token;
        if (valid && name === 'setHubSettings' && typeof token === 'string') tokens.add(token);
        const res = await fn(event, payload);
        if (!valid) {
          refused++;
          if (res.ok || res.error.code !== 'invalid-request') throw new Error(`${name} #${i} (seed ${SEED}) was not refused: ${JSON.stringify(res).slice(0, 300)}`);
          continue;
        }
        accepted++;
        if (!res.ok && res.error.code === 'internal') throw new Error(`${name} #${i} (seed ${SEED}) answered internal: ${res.error.message}`);
        const said = JSON.stringify(res);
        for (const t of tokens) if (t.length >= 8 && said.includes(t)) throw new Error(`${name} #${i} answered a token back`);
      }
    }
    // let the pulls that were started fail and report
    await new Promise((resolve) => setTimeout(resolve, 50));
    const published = JSON.stringify(events);
    for (const t of tokens) if (t.length >= 8) expect(published.includes(t)).toBe(false);
    expect(tokens.size).toBeGreaterThan(0);
    expect(hubCalls.describe + hubCalls.pull).toBeGreaterThan(0);
    expect(events.every((e) => e.type === 'pull-progress')).toBe(true);
    expect(await readdir(userPacks).catch(() => [])).toEqual([]);
    expect(prototypeFingerprint()).toBe(fingerprint);
    console.log(`[faults] models IPC fuzz: ${MODELS.length * IPC_N} payloads (${refused} refused, ${accepted} schema-valid, ${hubCalls.describe} look-ups and ${hubCalls.pull} pulls answered by the double, ${tokens.size} tokens set)`);
  }, FULL ? 1_800_000 : 120_000);
});
