/**
 * Web mode: the built renderer over HTTP with a strict CSP, the contract over a same-origin
 * WebSocket with binary frames, the session token, Origin/Host checks and payload validation,
 * on the real engine.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { EngineHost } from '../../electron/broker/engine-host.ts';
import { forkEngine } from '../../electron/broker/fork.ts';
import { CHANNELS } from '../../electron/contract/channels.ts';
import { decodeFrame, encodeFrame } from '../../electron/contract/wire.ts';
import type { ServerMessage } from '../../electron/contract/wire.ts';
import { startWebServer } from '../../electron/web/server.ts';
import type { WebServer } from '../../electron/web/server.ts';
import { sessionCookieName } from '../../electron/web/session.ts';
import { makeTestPacks } from './fixtures/packs.ts';

let tmp: string;
let host: EngineHost;
let server: WebServer;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-web-'));
  const packs = await makeTestPacks(path.join(tmp, 'packs'));
  const rendererDir = path.join(tmp, 'renderer');
  await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(tmp, 'secret.txt'), 'secret');
  host = new EngineHost({ spawn: forkEngine({ packDirs: [{ path: packs.dir, source: 'bundled' }], providers: ['cpu'], threads: 1 }) });
  server = await startWebServer({ host, rendererDir, port: 0 });
});
afterAll(async () => {
  await server?.close();
  await host?.stop();
  await rm(tmp, { recursive: true, force: true });
});

/** The cookie the user's browser holds after loading the start URL. */
const session = () => ({ Cookie: `${sessionCookieName(server.port)}=${server.token}` });

function get(urlPath: string, headers: Record<string, string> = session()): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: urlPath, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connect(origin = `http://127.0.0.1:${server.port}`, headers: Record<string, string> = session()): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { origin, headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Send one request frame and wait for its response. */
function call(ws: WebSocket, id: number, ch: string, p: unknown): Promise<ServerMessage & { t: 'res' }> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer) => {
      const msg = decodeFrame(new Uint8Array(data)) as ServerMessage;
      if (msg.t === 'res' && msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(encodeFrame({ t: 'req', id, ch: ch as never, p }));
  });
}

describe('web mode server', () => {
  it('serves the renderer with a strict CSP and refuses traversal and foreign hosts', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(index.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/assets/app.js')).headers['content-type']).toMatch(/javascript/);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/.hidden']) {
      const r = await get(p);
      expect(r.body, p).not.toContain('secret');
    }
    expect((await get('/', { ...session(), Host: 'evil.example:80' })).status).toBe(421);
  });

  it('serves nothing without the session token and trades the start URL\'s token for a strict cookie', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/token/${server.token}/`);
    expect(Buffer.from(server.token, 'base64url').length).toBeGreaterThanOrEqual(16);
    const wrong = { Cookie: `${sessionCookieName(server.port)}=${server.token.slice(0, -1)}${server.token.endsWith('A') ? 'B' : 'A'}` };
    for (const [p, headers] of [['/', {}], ['/assets/app.js', {}], ['/', wrong], ['/missing', wrong]] as const) {
      const r = await get(p, headers);
      expect(r.status, p).toBe(401);
      expect(r.body).not.toContain('<script');
      expect(r.headers['content-security-policy']).toMatch(/script-src 'self';/);
    }
    // The start URL (with a query appended by the caller) sets the cookie and leaves the token behind.
    const start = await get(`/token/${server.token}/?autosaveMs=5`, {});
    expect(start.status).toBe(303);
    expect(start.headers.location).toBe('/?autosaveMs=5');
    const cookie = start.headers['set-cookie']?.[0] ?? '';
    expect(cookie.split('; ')).toEqual([`${sessionCookieName(server.port)}=${server.token}`, 'Path=/', 'HttpOnly', 'SameSite=Strict']);
    expect((await get('/', { Cookie: cookie.split(';')[0]! })).status).toBe(200);
    // No open redirect through the path, and a wrong token gets no cookie.
    expect((await get(`/token/${server.token}//evil.example/x`, {})).headers.location).toBe('/');
    const bad = await get('/token/not-the-token/', {});
    expect(bad.status).toBe(403);
    expect(bad.headers['set-cookie']).toBeUndefined();
    // Opened from a file or another site: a browser would drop a Strict cookie on the redirect, so a page of ours moves on.
    const launched = await get(`/token/${server.token}/?a=1&b=2`, { 'Sec-Fetch-Site': 'cross-site' });
    expect(launched.status).toBe(200);
    expect(launched.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Strict$/);
    expect(launched.body).toContain('<meta http-equiv="refresh" content="0;url=/?a=1&amp;b=2">');
    expect(launched.body).not.toContain(server.token);
  });

  it('refuses WebSocket connections without the session token, even with our own Origin', async () => {
    await expect(connect(undefined, {})).rejects.toThrow(/401/);
    await expect(connect(undefined, { Cookie: `${sessionCookieName(server.port)}=x` })).rejects.toThrow(/401/);
  });

  it('refuses WebSocket connections from another origin', async () => {
    await expect(connect('https://evil.example')).rejects.toThrow(/403|Unexpected server response/);
  });

  it('implements the contract over binary frames on the real engine', async () => {
    const ws = await connect();
    try {
      const info = await call(ws, 1, CHANNELS.getAppInfo, {});
      expect(info.r).toEqual({ ok: true, value: { mode: 'web', version: '0.0.0', nativeDialogs: false, canSaveToPath: true, saveFolder: expect.stringMatching(/^\//) } });
      const dialog = await call(ws, 2, CHANNELS.pickOpenPath, {});
      expect(!dialog.r.ok && dialog.r.error.code).toBe('unsupported');
      const png = await sharp({ create: { width: 12, height: 10, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } }).png().toBuffer();
      const opened = await call(ws, 3, CHANNELS.openImage, { source: 'bytes', bytes: new Uint8Array(png), name: 'up.png' });
      expect(opened.r.ok).toBe(true);
      const imageId = (opened.r as { value: { imageId: string } }).value.imageId;
      const px = await call(ws, 4, CHANNELS.getImagePixels, { imageId });
      const rgba = (px.r as { value: { rgba: Uint8Array } }).value.rgba;
      expect(rgba).toBeInstanceOf(Uint8Array);
      expect(rgba.length).toBe(12 * 10 * 4);
      expect([...rgba.subarray(0, 4)]).toEqual([1, 2, 3, 128]);
      const enc = await call(ws, 5, CHANNELS.encodeImage, { imageId, format: 'png' });
      expect((enc.r as { value: { mime: string } }).value.mime).toBe('image/png');
    } finally {
      ws.close();
    }
  });

  it('validates every message and answers malformed ones with invalid-request', async () => {
    const ws = await connect();
    try {
      const bad = await call(ws, 9, CHANNELS.runTool, { tool: 'restore', imageId: 'img_x', steps: -3 });
      expect(!bad.r.ok && bad.r.error.code).toBe('invalid-request');
      const unknown = await call(ws, 10, 'codi:shell.exec', { cmd: 'rm -rf /' });
      expect(!unknown.r.ok && unknown.r.error.message).toMatch(/unknown channel/);
      const garbage = await new Promise<ServerMessage>((resolve) => {
        ws.once('message', (d: Buffer) => resolve(decodeFrame(new Uint8Array(d)) as ServerMessage));
        ws.send(Buffer.from([1, 2, 3, 4, 5, 6, 7]));
      });
      expect(garbage.t === 'res' && !garbage.r.ok && garbage.r.error.code).toBe('invalid-request');
    } finally {
      ws.close();
    }
  });
});
