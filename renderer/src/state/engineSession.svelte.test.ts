import { describe, expect, it } from 'vitest';
import type { EngineConnection, LinkState, ListPacksResponse, Result } from '../engine-client/index.ts';
import { EngineSession } from './engineSession.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { ok, pack, scriptedApi } from './testing/fakeApi.ts';

const listing = (names: string[]): Result<ListPacksResponse> => ok({ packs: [...names.map((n) => pack(n, 'edit')), pack('bb', 'backbone')], provider: { active: 'cpu', tried: ['cpu'] } });

function connect(list: () => Promise<Result<ListPacksResponse>>) {
  const s = scriptedApi({ listPacks: list, getAppInfo: async () => ok({ version: '1' } as never) });
  let link: (l: LinkState) => void = () => {};
  const conn: EngineConnection = { api: s.api, transport: 'websocket', onLink: (l) => ((link = l), () => {}) };
  const notices = new Notices();
  return { session: new EngineSession(conn, notices), notices, emit: s.emit, setLink: (l: LinkState) => link(l), calls: s.calls };
}

describe('EngineSession', () => {
  it('lists packs when the engine becomes ready; tools leave out backbones', async () => {
    const { session, emit } = connect(async () => listing(['a']));
    const seen: string[][] = [];
    session.onPacks = (tools) => seen.push(tools.map((t) => t.name));
    emit({ type: 'engine-status', status: { state: 'ready', provider: 'cpu' } });
    await Promise.resolve();
    await Promise.resolve();
    expect(session.packsLoaded).toBe(true);
    expect(session.tools.map((t) => t.name)).toEqual(['a']);
    expect(seen).toEqual([['a']]);
  });

  it('a listing that answers means the engine is ready, even before its status event', async () => {
    const { session } = connect(async () => listing(['a']));
    await session.loadPacks();
    expect(session.status).toEqual({ state: 'ready', provider: 'cpu' });
  });

  it('reports a failed listing only while the link is open', async () => {
    const { session, notices, setLink } = connect(async () => ({ ok: false, error: { code: 'engine-unavailable', message: 'restarting' } }));
    setLink('closed');
    await session.loadPacks();
    expect(notices.current).toBeNull();
    session.link = 'open';
    await session.loadPacks();
    expect(notices.current?.kind).toBe('error');
    expect(notices.current?.text).toContain('not available right now (restarting)');
  });

  it('refreshes app info and packs when the link reopens', async () => {
    const { session, setLink, calls } = connect(async () => listing([]));
    setLink('closed');
    setLink('open');
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual(['getAppInfo', 'listPacks']);
    expect(session.appInfo).toEqual({ version: '1' });
  });
});
