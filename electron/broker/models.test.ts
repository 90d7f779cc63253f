/**
 * The model manager's server with a Hub client double: what a look-up tells the user, a pull's
 * events (throttled, 'done' only after the engine rescanned), cancel, failures with the token
 * taken out, and removal/verification of user packs only.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Result } from '../contract/api.ts';
import type { CodiEvent, PullProgress } from '../contract/schemas.ts';
import type { PullOptions, RepoInfo } from '../hub/types.ts';
import { HubError } from '../hub/types.ts';
import { HubConfig, sessionVault } from './hub-settings.ts';
import { ModelManager } from './models.ts';
import type { HubClient } from './models.ts';

const TOKEN = 'hf_SeCrEt0123456789';
const INFO: RepoInfo = {
  repo: 'acme/tiny-sd',
  revision: '0123456789abcdef0123456789abcdef01234567',
  licence: 'openrail',
  gated: 'auto',
  files: [
    { path: 'model_index.json', size: 300, sha256: null },
    { path: 'unet/model.onnx', size: 4000, sha256: 'a'.repeat(64) },
  ],
  pipelineTag: 'text-to-image',
};

let work: string;
let events: CodiEvent[];
let rescans: number;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'codi-models-'));
  await mkdir(path.join(work, 'user'), { recursive: true });
  await mkdir(path.join(work, 'bundled', 'codi-restore'), { recursive: true });
  await writeFile(path.join(work, 'bundled', 'codi-restore', 'manifest.json'), '{}');
  events = [];
  rescans = 0;
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function manager(hub: Partial<HubClient>, env: NodeJS.ProcessEnv = {}): ModelManager {
  const config = new HubConfig({ vault: sessionVault(), settingsFile: path.join(work, 'hub-settings.json'), env });
  const base: HubClient = {
    describeRepo: async () => INFO,
    selectFiles: (info) => info.files,
    mustAccept: (info) => (info.gated ? 'the repository is gated' : null),
    pullPack: async () => {
      throw new Error('pullPack not scripted');
    },
    verifyPack: async () => ({ ok: true, problems: [], repaired: [] }),
    removePack: async () => {},
  };
  return new ModelManager({
    userPacksDir: path.join(work, 'user'),
    bundledPacksDir: path.join(work, 'bundled'),
    config,
    hub: { ...base, ...hub },
    publish: (e) => events.push(e),
    rescanPacks: async () => {
      rescans++;
    },
    progressEveryMs: 1000,
  });
}

const pulls = () => events.flatMap((e) => (e.type === 'pull-progress' ? [e.pull] : []));
const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
};
async function until(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !fn(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!fn()) throw new Error(`timed out waiting for ${what}`);
}

describe('ModelManager', () => {
  it('looks a repo up: licence, gate, size and why acceptance is needed, and only whether a token is set', async () => {
    let seenToken: string | undefined;
    let seenBase: string | undefined;
    const m = manager({ describeRepo: async (_spec, opts) => ((seenToken = opts.token), (seenBase = opts.baseUrl), INFO) }, { HF_TOKEN: TOKEN, HF_ENDPOINT: 'http://127.0.0.1:9' });
    const s = value(await m.handlers.describeHubRepo({ repo: 'acme/tiny-sd' }));
    expect(s).toMatchObject({ repo: 'acme/tiny-sd', licence: 'openrail', gated: 'auto', bytesTotal: 4300, mustAccept: 'the repository is gated', tokenSet: true, pipelineTag: 'text-to-image' });
    expect(seenToken).toBe(TOKEN);
    expect(seenBase).toBe('http://127.0.0.1:9');
    expect(JSON.stringify(s)).not.toContain(TOKEN);
  });

  it('pulls with progress events (throttled, phase changes always sent) and says done only after the engine rescanned', async () => {
    let opts: PullOptions | undefined;
    const m = manager({
      pullPack: async (_spec, o) => {
        opts = o;
        o.onProgress?.({ phase: 'downloading', bytesDone: 100, bytesTotal: 4300, bytesPerSecond: 1000, etaSeconds: 4.2, file: 'unet/model.onnx' });
        o.onProgress?.({ phase: 'downloading', bytesDone: 200, bytesTotal: 4300, bytesPerSecond: 1000, etaSeconds: 4.1, file: 'unet/model.onnx' });
        o.onProgress?.({ phase: 'verifying', bytesDone: 4300, bytesTotal: 4300, bytesPerSecond: 0, etaSeconds: 0 });
        o.onProgress?.({ phase: 'done', bytesDone: 4300, bytesTotal: 4300, bytesPerSecond: 0, etaSeconds: 0 });
        expect(rescans).toBe(0);
        return { packDir: path.join(work, 'user', 'tiny-sd'), name: 'tiny-sd', bytes: 4300, revision: INFO.revision };
      },
    });
    const { pullId } = value(await m.handlers.startPull({ repo: 'acme/tiny-sd', acceptLicence: true }));
    await until('done', () => pulls().some((p) => p.phase === 'done'));
    expect(opts).toMatchObject({ packsDir: path.join(work, 'user'), acceptLicence: true });
    expect(opts?.signal).toBeInstanceOf(AbortSignal);
    const phases = pulls().map((p) => p.phase);
    // the second 'downloading' falls inside the throttle window; the Hub's own 'done' becomes 'installing'
    expect(phases).toEqual(['resolving', 'downloading', 'verifying', 'installing', 'done']);
    expect(pulls().every((p) => p.pullId === pullId)).toBe(true);
    expect(pulls().at(-1)).toMatchObject({ pack: 'tiny-sd', bytesDone: 4300 });
    expect(pulls()[1]).toMatchObject({ bytesPerSecond: 1000, etaSeconds: 4.2, file: 'unet/model.onnx' });
    expect(rescans).toBe(1);
  });

  it('cancels a running pull: the answer comes once it stopped, and the event says nothing was installed', async () => {
    let stopped = false;
    let started = false;
    const m = manager({
      pullPack: (_spec, o) =>
        new Promise((_resolve, reject) => {
          started = true;
          o.signal?.addEventListener('abort', () => {
            setTimeout(() => {
              stopped = true;
              reject(new HubError('cancelled', 'the pull was cancelled'));
            }, 20);
          });
        }),
    });
    const { pullId } = value(await m.handlers.startPull({ repo: 'acme/tiny-sd', acceptLicence: true }));
    expect((await m.handlers.startPull({ repo: 'acme/tiny-sd', acceptLicence: true })).ok).toBe(false);
    await until('download started', () => started);
    expect(value(await m.handlers.cancelPull({ pullId }))).toEqual({ cancelled: true });
    expect(stopped).toBe(true);
    const last = pulls().at(-1) as PullProgress;
    expect(last.phase).toBe('cancelled');
    expect(last.error).toEqual({ code: 'cancelled', message: 'Pull of acme/tiny-sd cancelled; nothing was installed.' });
    expect(rescans).toBe(0);
    const again = await m.handlers.cancelPull({ pullId });
    expect(again.ok ? 'ok' : again.error.code).toBe('not-found');
  });

  it('reports a failed pull with its Hub error code and the token taken out of the message', async () => {
    const m = manager({ pullPack: async () => Promise.reject(new HubError('unauthorized', `the Hub refused Bearer ${TOKEN}`)) }, { HF_TOKEN: TOKEN });
    value(await m.handlers.startPull({ repo: 'acme/tiny-sd', acceptLicence: true }));
    await until('failed', () => pulls().some((p) => p.phase === 'failed'));
    const last = pulls().at(-1) as PullProgress;
    expect(last.error?.code).toBe('unauthorized');
    expect(last.error?.message).toBe('the Hub refused Bearer [token]');
    expect(JSON.stringify(events)).not.toContain(TOKEN);
    const d = await manager({ describeRepo: async () => Promise.reject(new HubError('gated', `gated; sent ${TOKEN}`)) }, { HF_TOKEN: TOKEN }).handlers.describeHubRepo({ repo: 'acme/x' });
    expect(d.ok ? '' : d.error.message).toBe('gated; sent [token]');
  });

  it('removes user packs only: a bundled pack is refused, an unknown one not found; the engine rescans after a removal', async () => {
    const removed: string[] = [];
    const m = manager({ removePack: async (_dir, name) => void removed.push(name) });
    await mkdir(path.join(work, 'user', 'tiny-sd'));
    await writeFile(path.join(work, 'user', 'tiny-sd', 'manifest.json'), '{}');
    const bundled = await m.handlers.removePack({ name: 'codi-restore' });
    expect(bundled.ok ? 'ok' : bundled.error.code).toBe('forbidden');
    const unknown = await m.handlers.removePack({ name: 'nope' });
    expect(unknown.ok ? 'ok' : unknown.error.code).toBe('not-found');
    expect(removed).toEqual([]);
    expect(value(await m.handlers.removePack({ name: 'tiny-sd' }))).toEqual({ removed: 'tiny-sd' });
    expect(removed).toEqual(['tiny-sd']);
    expect(rescans).toBe(1);
  });

  it('verifies a user pack and rescans after a repair; a bundled pack is checked but never repaired', async () => {
    await mkdir(path.join(work, 'user', 'tiny-sd'));
    await writeFile(path.join(work, 'user', 'tiny-sd', 'manifest.json'), '{}');
    const seen: boolean[] = [];
    const m = manager({
      verifyPack: async (_dir, o) => (seen.push(o.repair), o.repair ? { ok: true, problems: [], repaired: ['unet/model.onnx'] } : { ok: false, problems: ['unet/model.onnx: sha256 differs'], repaired: [] }),
    });
    expect(value(await m.handlers.verifyPack({ name: 'tiny-sd', repair: false }))).toEqual({ name: 'tiny-sd', ok: false, problems: ['unet/model.onnx: sha256 differs'], repaired: [] });
    expect(rescans).toBe(0);
    expect(value(await m.handlers.verifyPack({ name: 'tiny-sd', repair: true })).repaired).toEqual(['unet/model.onnx']);
    expect(seen).toEqual([false, true]);
    expect(rescans).toBe(1);
    // a bundled pack can be checked, not repaired
    expect(value(await m.handlers.verifyPack({ name: 'codi-restore', repair: false })).name).toBe('codi-restore');
    const repair = await m.handlers.verifyPack({ name: 'codi-restore', repair: true });
    expect(repair.ok ? 'ok' : repair.error.code).toBe('forbidden');
    expect(seen).toEqual([false, true, false]);
  });

  it('refuses malformed requests on every channel before any work', async () => {
    const m = manager({});
    for (const channel of ['describeHubRepo', 'startPull', 'cancelPull', 'removePack', 'verifyPack', 'setHubSettings'] as const) {
      for (const payload of [{ repo: '../../etc' }, { name: '../x' }, { pullId: 'job_1' }, { token: 'has space' }, { endpoint: 'file:///etc/passwd' }, { extra: 1 }]) {
        const r = await m.handle(channel, payload);
        expect(r.ok ? 'ok' : r.error.code, `${channel} ${JSON.stringify(payload)}`).toBe('invalid-request');
      }
    }
    expect(events).toEqual([]);
  });
});
