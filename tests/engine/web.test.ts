/**
 * Web mode: the built renderer over HTTP with a strict CSP, the contract over a same-origin
 * WebSocket with binary frames, Origin/Host checks and payload validation, on the real engine.
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

function get(urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
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

function connect(origin = `http://127.0.0.1:${server.port}`): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { origin });
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
    expect((await get('/', { Host: 'evil.example:80' })).status).toBe(421);
  });

  it('refuses WebSocket connections from another origin', async () => {
    await expect(connect('https://evil.example')).rejects.toThrow(/403|Unexpected server response/);
  });

  it('implements the contract over binary frames on the real engine', async () => {
    const ws = await connect();
    try {
      const info = await call(ws, 1, CHANNELS.getAppInfo, {});
      expect(info.r).toEqual({ ok: true, value: { mode: 'web', version: '0.0.0', nativeDialogs: false, canSaveToPath: true } });
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
