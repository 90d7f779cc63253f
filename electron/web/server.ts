/**
 * Web mode: the same renderer (dist/renderer) and the same engine as the desktop app, served
 * on 127.0.0.1 with the contract over one WebSocket (`/ws`, same origin, binary frames from
 * electron/contract/wire.ts). Every request is validated with the contract schemas by the
 * shared dispatcher; Origin and Host are checked (cross-site pages and DNS rebinding), every
 * request and the socket handshake must carry the session token (local processes that forge
 * those headers), and every page carries a strict CSP.
 */
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { fail } from '../contract/api.ts';
import type { Result } from '../contract/api.ts';
import { channelNameOf } from '../contract/channels.ts';
import type { CodiEvent } from '../contract/schemas.ts';
import { decodeFrame, encodeFrame } from '../contract/wire.ts';
import type { ServerMessage } from '../contract/wire.ts';
import { dispatch } from '../broker/api.ts';
import { AutosaveStore, defaultAutosaveDir } from '../broker/autosave.ts';
import type { ShellServices } from '../broker/api.ts';
import type { EngineHost } from '../broker/engine-host.ts';
import { hasSessionCookie, newSessionToken, sessionCookie, tokenExchange, tokensEqual, tokenUrl } from './session.ts';
import { MIME, resolveStatic } from './static.ts';

export interface WebServerOptions {
  host: EngineHost;
  /** Built renderer folder (index.html + assets). */
  rendererDir: string;
  /** 0 = any free port. */
  port?: number;
  version?: string;
  /** Largest WebSocket message accepted (bytes). */
  maxPayload?: number;
  /** Where the editing session is autosaved (default: CODI_USER_DATA/autosave or ~/.codi-studio/autosave). */
  autosaveDir?: string;
}

export interface WebServer {
  /** The start URL, with the session token: show it to the user once, log it nowhere else. */
  url: string;
  port: number;
  /** The session token in that URL (for in-process clients that set the cookie themselves). */
  token: string;
  close(): Promise<void>;
}


/** The page's CSP: only our own scripts; the socket only to ourselves. */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Svelte transitions write inline style attributes; no inline scripts are allowed.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Hosts a page of ours may be loaded from (anything else is DNS rebinding or a foreign page). */
export function allowedOrigins(port: number): Set<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
}

function hostAllowed(hostHeader: string | undefined, port: number): boolean {
  return hostHeader === `127.0.0.1:${port}` || hostHeader === `localhost:${port}`;
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const rendererRoot = await fs.realpath(opts.rendererDir);
  const shell: ShellServices = {
    appInfo: { mode: 'web', version: opts.version ?? '0.0.0', nativeDialogs: false, canSaveToPath: true },
    autosave: new AutosaveStore(opts.autosaveDir ?? defaultAutosaveDir()),
  };
  let port = 0;
  const token = newSessionToken();
  const sockets = new Set<WebSocket>();

  const server = http.createServer((req, res) => {
    void serveHttp(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function serveHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const security = {
      'Content-Security-Policy': contentSecurityPolicy(port),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-store',
    };
    if (!hostAllowed(req.headers.host, port)) {
      res.writeHead(421, security).end('misdirected request');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...security, Allow: 'GET, HEAD' }).end();
      return;
    }
    const exchange = tokenExchange(req.url ?? '/');
    if (exchange) {
      if (!tokensEqual(exchange.token, token)) {
        res.writeHead(403, { ...security, 'Content-Type': 'text/plain; charset=utf-8' }).end(ACCESS_LINK_WRONG);
        return;
      }
      // Trade the token for a cookie, then leave the URL that shows it (address bar, history).
      const withCookie = { ...security, 'Set-Cookie': sessionCookie(port, token) };
      if (req.headers['sec-fetch-site'] === 'cross-site') {
        // Opened from another site or a file (the browser launcher): a browser withholds
        // SameSite=Strict cookies on a redirect of such a navigation, so move on from a page of ours.
        res.writeHead(200, { ...withCookie, 'Content-Type': 'text/html; charset=utf-8' }).end(continuePage(exchange.location));
      } else {
        res.writeHead(303, { ...withCookie, Location: exchange.location }).end();
      }
      return;
    }
    if (!hasSessionCookie(req, port, token)) {
      res.writeHead(401, { ...security, 'Content-Type': 'text/plain; charset=utf-8' }).end(ACCESS_LINK_MISSING);
      return;
    }
    const file = await resolveStatic(rendererRoot, req.url ?? '/');
    if (!file) {
      res.writeHead(404, security).end('not found');
      return;
    }
    const st = await fs.stat(file);
    res.writeHead(200, {
      ...security,
      'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': st.size,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({
    server,
    path: '/ws',
    maxPayload: opts.maxPayload ?? 512 * 1024 * 1024,
    // Refused here, during the upgrade: no 'connection' handler runs for these clients.
    verifyClient: (info: { origin: string; req: http.IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
      if (!hostAllowed(info.req.headers.host, port) || !allowedOrigins(port).has(info.origin)) done(false, 403, 'Forbidden');
      else if (!hasSessionCookie(info.req, port, token)) done(false, 401, 'Unauthorized');
      else done(true);
    },
  });

  const broadcast = (e: CodiEvent) => {
    const frame = encodeFrame({ t: 'evt', e });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(frame);
  };
  const unsubscribe = opts.host.onEvent(broadcast);

  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data, isBinary) => {
      void onMessage(ws, data, isBinary);
    });
    // Tell a new page where the engine stands (it may have missed 'ready').
    ws.send(encodeFrame({ t: 'evt', e: { type: 'engine-status', status: opts.host.status } }));
  });

  async function onMessage(ws: WebSocket, data: unknown, isBinary: boolean): Promise<void> {
    let id = -1;
    let result: Result<unknown>;
    try {
      if (!isBinary) throw new Error('text frames are not part of the protocol');
      const bytes = toUint8(data);
      const msg = decodeFrame(bytes) as { t?: unknown; id?: unknown; ch?: unknown; p?: unknown };
      if (msg?.t !== 'req' || typeof msg.id !== 'number' || !Number.isInteger(msg.id) || typeof msg.ch !== 'string') {
        throw new Error('expected {t: "req", id, ch, p}');
      }
      id = msg.id;
      const channel = channelNameOf(msg.ch);
      result = channel ? await dispatch(opts.host, shell, channel, msg.p) : fail('invalid-request', `unknown channel "${msg.ch}"`);
    } catch (err) {
      result = fail('invalid-request', `malformed message: ${(err as Error).message}`);
    }
    const reply: ServerMessage = { t: 'res', id, r: result };
    if (ws.readyState === ws.OPEN) ws.send(encodeFrame(reply));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: tokenUrl(port, token),
    port,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ACCESS_LINK_MISSING = 'CoDi Studio needs its access link: open the address that `npm start` printed (http://127.0.0.1:PORT/token/…).\n';
const ACCESS_LINK_WRONG = 'This access link is not valid (each start makes a new one): open the address that `npm start` printed last.\n';

/** A page of ours that moves on to `location` (a same-origin path: `/` plus an encoded query). */
function continuePage(location: string): string {
  const href = location.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>CoDi Studio</title><a href="${href}">Continue to CoDi Studio</a>\n`;
}

function toUint8(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data as Buffer[]));
  throw new Error('unexpected frame payload');
}
