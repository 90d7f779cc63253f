import type { CodiApi, Result } from '../../../electron/contract/api.ts';
import { CHANNEL_NAMES, CHANNELS } from '../../../electron/contract/channels.ts';
import type { ChannelName } from '../../../electron/contract/channels.ts';
import type { CodiEvent } from '../../../electron/contract/schemas.ts';
import { decodeFrame, encodeFrame } from './wire.ts';

/** The part of the DOM WebSocket the client uses (tests pass a double). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: Uint8Array): void;
  close(): void;
}

export type SocketFactory = (url: string) => SocketLike;

const OPEN = 1;

/** Connection state of the web-mode transport (not the engine's own state). */
export type LinkState = 'connecting' | 'open' | 'closed';

export interface WebSocketApiOptions {
  readonly url: string;
  readonly socket?: SocketFactory;
  /** Reconnect delays in ms; the last one repeats. */
  readonly backoffMs?: readonly number[];
  readonly onLinkState?: (s: LinkState) => void;
}

interface Pending {
  readonly resolve: (r: Result<unknown>) => void;
}

/**
 * CodiApi over the web server's WebSocket: one binary frame per message (contract wire.ts).
 * Requests made while the socket is down wait for the reconnect; requests in flight when it
 * drops resolve to `engine-unavailable` (never hang, never throw).
 */
export function createWebSocketApi(opts: WebSocketApiOptions): CodiApi & { close(): void; readonly link: LinkState } {
  const makeSocket: SocketFactory = opts.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
  const backoff = opts.backoffMs ?? [250, 500, 1000, 2000, 4000];
  const listeners = new Set<(e: CodiEvent) => void>();
  const pending = new Map<number, Pending>();
  let queue: Uint8Array[] = [];
  let nextId = 1;
  let socket: SocketLike | null = null;
  let link: LinkState = 'connecting';
  let attempt = 0;
  let closedByUser = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const setLink = (s: LinkState): void => {
    link = s;
    opts.onLinkState?.(s);
  };

  const connect = (): void => {
    setLink('connecting');
    const ws = makeSocket(opts.url);
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setLink('open');
      const q = queue;
      queue = [];
      for (const f of q) ws.send(f);
    };
    ws.onmessage = (ev) => {
      const data = ev.data;
      if (!(data instanceof ArrayBuffer)) return;
      let msg: { t?: string; id?: number; r?: Result<unknown>; e?: CodiEvent };
      try {
        msg = decodeFrame(new Uint8Array(data)) as typeof msg;
      } catch {
        return; // A malformed frame from the server is dropped, not trusted.
      }
      if (msg.t === 'res' && typeof msg.id === 'number' && msg.r) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        p?.resolve(msg.r);
      } else if (msg.t === 'evt' && msg.e) {
        for (const l of listeners) l(msg.e);
      }
    };
    ws.onerror = () => {};
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      for (const p of pending.values()) p.resolve({ ok: false, error: { code: 'engine-unavailable', message: 'Lost the connection to the CoDi server.' } });
      pending.clear();
      setLink('closed');
      if (closedByUser) return;
      const delay = backoff[Math.min(attempt, backoff.length - 1)] ?? 1000;
      attempt++;
      timer = setTimeout(connect, delay);
    };
  };

  const call = (ch: ChannelName, p: unknown): Promise<Result<unknown>> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, { resolve });
      const frame = encodeFrame({ t: 'req', id, ch: CHANNELS[ch], p: p ?? {} });
      if (socket && socket.readyState === OPEN) socket.send(frame);
      else queue.push(frame);
    });

  connect();

  const api = {
    onEvent(listener: (e: CodiEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close(): void {
      closedByUser = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    },
    get link(): LinkState {
      return link;
    },
  } as Record<string, unknown>;
  for (const name of CHANNEL_NAMES) api[name] = (req: unknown) => call(name, req);
  return api as unknown as CodiApi & { close(): void; readonly link: LinkState };
}
