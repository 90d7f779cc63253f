import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { ok } from '../contract/api.ts';
import type { Result } from '../contract/api.ts';
import { CHANNELS, EVENT_CHANNEL } from '../contract/channels.ts';
import { buildPreloadApi } from '../preload/api.ts';
import type { IpcMainInvokeEventLike } from './electron-types.ts';
import { createHandle } from './ipc.ts';
import { APP_URL, isTrustedSender, mainWindowOptions } from './security.ts';

const top = (url: string) => ({ url, parent: null });

describe('IPC sender validation', () => {
  it('trusts only the app page in the main frame', () => {
    expect(isTrustedSender(top(APP_URL))).toBe(true);
    expect(isTrustedSender(top('app://codi/some/route?x=1'))).toBe(true);
    for (const url of ['', 'about:blank', 'file:///etc/passwd', 'https://codi/', 'app://evil/', 'app://codi.evil/', 'http://127.0.0.1:5173/', 'data:text/html,hi', 'app:codi']) {
      expect(isTrustedSender(top(url)), url).toBe(false);
    }
    expect(isTrustedSender({ url: APP_URL, parent: top(APP_URL) })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
  });

  it('window options keep isolation, sandbox and web security on', () => {
    const w = mainWindowOptions('/x/preload.cjs').webPreferences;
    expect(w).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });
});

describe('handle(channel, schema, fn)', () => {
  const registered = new Map<string, (e: IpcMainInvokeEventLike, ...a: unknown[]) => unknown>();
  const refused: string[] = [];
  const handle = createHandle({ handle: (ch, fn) => registered.set(ch, fn) }, (ch) => refused.push(ch));
  const calls: unknown[] = [];
  handle('codi:test', z.object({ n: z.number().int() }).strict(), async (p) => {
    calls.push(p);
    return ok(p.n * 2);
  });
  const invoke = (frame: { url: string; parent: unknown } | null, payload: unknown) =>
    registered.get('codi:test')!({ senderFrame: frame as never }, payload) as Promise<Result<unknown>>;

  it('checks the sender before looking at the payload', async () => {
    const r = await invoke(top('https://evil.example/'), { n: 1 });
    expect(!r.ok && r.error.code).toBe('forbidden');
    expect(refused).toEqual(['codi:test']);
    expect(calls).toEqual([]);
  });

  it('validates the payload, then calls the handler', async () => {
    const bad = await invoke(top(APP_URL), { n: 'one' });
    expect(!bad.ok && bad.error.code).toBe('invalid-request');
    const extra = await invoke(top(APP_URL), { n: 1, x: 2 });
    expect(extra.ok).toBe(false);
    expect(await invoke(top(APP_URL), { n: 21 })).toEqual({ ok: true, value: 42 });
    expect(calls).toEqual([{ n: 21 }]);
  });
});

describe('preload API', () => {
  it('exposes one named method per channel and never the IPC event', async () => {
    const invoked: [string, unknown][] = [];
    const listeners = new Map<string, (e: unknown, ...a: unknown[]) => void>();
    const api = buildPreloadApi({
      invoke: async (ch, req) => {
        invoked.push([ch, req]);
        return ok(null);
      },
      on: (ch, l) => listeners.set(ch, l),
      removeListener: (ch) => listeners.delete(ch),
    });
    expect(Object.keys(api).sort()).toEqual([...Object.keys(CHANNELS), 'onEvent'].sort());
    await api.cancelJob({ jobId: 'job_1' });
    expect(invoked).toEqual([[CHANNELS.cancelJob, { jobId: 'job_1' }]]);
    const got: unknown[] = [];
    const off = api.onEvent((e) => got.push(e));
    const fakeIpcEvent = { sender: { send() {} } };
    listeners.get(EVENT_CHANNEL)!(fakeIpcEvent, { type: 'engine-status', status: { state: 'ready' } });
    expect(got).toEqual([{ type: 'engine-status', status: { state: 'ready' } }]);
    off();
    expect(listeners.has(EVENT_CHANNEL)).toBe(false);
  });
});
