import { describe, it, expect } from 'vitest';
import { decodeFrame, encodeFrame } from './wire.ts';
import type { LinkState, SocketLike } from './wsClient.ts';
import { createWebSocketApi } from './wsClient.ts';

/** An in-memory socket the test drives by hand (open, deliver, drop). */
class ScriptedSocket implements SocketLike {
  binaryType = '';
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  sent: unknown[] = [];
  send(data: Uint8Array): void {
    this.sent.push(decodeFrame(data));
  }
  close(): void {
    this.drop();
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(msg: unknown): void {
    const f = encodeFrame(msg);
    this.onmessage?.({ data: f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength) });
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({});
  }
}

function setup() {
  const sockets: ScriptedSocket[] = [];
  const links: LinkState[] = [];
  const api = createWebSocketApi({
    url: 'ws://127.0.0.1:1/ws',
    socket: () => {
      const s = new ScriptedSocket();
      sockets.push(s);
      return s;
    },
    backoffMs: [0],
    onLinkState: (s) => links.push(s),
  });
  return { api, sockets, links };
}

describe('WebSocket CodiApi', () => {
  it('queues requests until the socket opens and matches replies by id', async () => {
    const { api, sockets } = setup();
    const p = api.listPacks({});
    const s = sockets[0]!;
    expect(s.sent).toEqual([]);
    s.open();
    expect(s.sent).toEqual([{ t: 'req', id: 1, ch: 'codi:listPacks', p: {} }]);
    s.deliver({ t: 'res', id: 1, r: { ok: true, value: { packs: [], provider: { active: 'cpu', tried: ['cpu'] } } } });
    expect(await p).toEqual({ ok: true, value: { packs: [], provider: { active: 'cpu', tried: ['cpu'] } } });
    api.close();
  });

  it('delivers events and binary payloads intact', async () => {
    const { api, sockets } = setup();
    const s = sockets[0]!;
    s.open();
    const events: unknown[] = [];
    const off = api.onEvent((e) => events.push(e));
    s.deliver({ t: 'evt', e: { type: 'engine-status', status: { state: 'ready' } } });
    off();
    s.deliver({ t: 'evt', e: { type: 'engine-status', status: { state: 'restarting' } } });
    expect(events).toEqual([{ type: 'engine-status', status: { state: 'ready' } }]);
    const px = api.getImagePixels({ imageId: 'img_a' });
    s.deliver({ t: 'res', id: 1, r: { ok: true, value: { imageId: 'img_a', width: 1, height: 1, rgba: new Uint8Array([1, 2, 3, 4]) } } });
    const r = await px;
    expect(r.ok && Array.from(r.value.rgba)).toEqual([1, 2, 3, 4]);
    api.close();
  });

  it('fails in-flight requests when the link drops, then reconnects', async () => {
    const { api, sockets, links } = setup();
    sockets[0]!.open();
    const p = api.runTool({ tool: 'restore', imageId: 'img_a' });
    sockets[0]!.drop();
    const r = await p;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('engine-unavailable');
    await new Promise((res) => setTimeout(res, 5));
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    expect(links).toEqual(['connecting', 'open', 'closed', 'connecting', 'open']);
    expect(api.link).toBe('open');
    api.close();
  });
});
