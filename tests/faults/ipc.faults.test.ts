/**
 * Every contract channel fuzzed through the two real validation entry points: the Electron
 * `handle()` wrapper (called as ipcMain would, with a fake event from the app's main frame)
 * and the web server's WebSocket (binary frames, plus malformed frames). Each payload the
 * schema refuses must come back as `invalid-request`; nothing may crash the broker or the
 * engine, answer `internal`, or pollute a prototype. Frames from another origin or sender are
 * refused before their payload is looked at.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, readdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { dispatch } from '../../electron/broker/api.ts';
import type { ShellServices } from '../../electron/broker/api.ts';
import type { Result } from '../../electron/contract/api.ts';
import { CHANNEL_NAMES as ALL_CHANNELS, CHANNELS, serverOf } from '../../electron/contract/channels.ts';
import type { ChannelName } from '../../electron/contract/channels.ts';
import { SCHEMAS } from '../../electron/contract/schemas.ts';
import { decodeFrame, encodeFrame } from '../../electron/contract/wire.ts';
import type { ServerMessage } from '../../electron/contract/wire.ts';
import type { IpcMainInvokeEventLike } from '../../electron/main/electron-types.ts';
import { createHandle } from '../../electron/main/ipc.ts';
import { APP_URL } from '../../electron/main/security.ts';
import { startWebServer } from '../../electron/web/server.ts';
import { sessionCookieName } from '../../electron/web/session.ts';
import { startWebServer as spawnWebServer } from '../e2e/harness.ts';
import { FULL, startFuzzStack, WsClient } from './harness.ts';
import type { EngineStack, FuzzStack } from './harness.ts';
import { fuzzPayload, Prng, prototypeFingerprint, templates } from './fuzz.ts';

// The personal-adapter channels fork a training worker for every schema-valid payload: they are
// fuzzed in ipc-personal.faults.test.ts with an in-process worker double. The model manager's
// channels reach the network (a schema-valid startPull or describeHubRepo asks the Hub): their
// validation is tested with a Hub client double in electron/broker/models.test.ts.
const CHANNEL_NAMES = ALL_CHANNELS.filter((n) => serverOf(n) !== 'personal' && serverOf(n) !== 'models');
/**
 * Per channel: 10 000 handle() calls + 10 000 WebSocket frames under CODI_FAULTS_FULL; the
 * fast set (inside the normal `vitest run`) keeps 1 500 + 500 so the whole suite stays quick.
 */
const IPC_N = FULL ? 10_000 : 1_500;
const WS_N = FULL ? 10_000 : 500;
const MALFORMED_N = FULL ? 20_000 : 2_000;
const SEED = 20240611;
/** The full fuzz runs for minutes on 2 busy cores. */
const LONG_TIMEOUT = FULL ? 1_800_000 : 120_000;

let sandbox: string;
let stack: EngineStack;
const fingerprint = prototypeFingerprint();
const tally = { payloads: 0, refused: 0, accepted: 0, malformedFrames: 0 };

let fuzz: FuzzStack;
beforeAll(async () => {
  fuzz = await startFuzzStack('codi-faults-ipc-');
  ({ sandbox, stack } = fuzz);
});
afterAll(async () => {
  await fuzz?.stop();
});

function schemaAccepts(channel: ChannelName, payload: unknown): boolean {
  return SCHEMAS[channel].request.safeParse(payload ?? {}).success;
}

describe('faults: IPC fuzzing', () => {
  it(`ipc-fuzz-electron-handle: ${IPC_N} hostile payloads per channel through handle() are refused by validation`, async () => {
    const registered = new Map<string, (e: IpcMainInvokeEventLike, payload: unknown) => Promise<Result<unknown>>>();
    const shell: ShellServices = { appInfo: { mode: 'electron', version: 'fuzz', nativeDialogs: false, canSaveToPath: true } };
    const handle = createHandle({ handle: (ch, fn) => registered.set(ch, fn as never) });
    for (const name of CHANNEL_NAMES) handle(CHANNELS[name], SCHEMAS[name].request, (p) => dispatch(stack.host, shell, name, p));
    const event = { senderFrame: { url: APP_URL, parent: null } } as unknown as IpcMainInvokeEventLike;
    const pid = stack.host.pid;
    const r = new Prng(SEED);
    const tpl = templates(sandbox);
    for (const name of CHANNEL_NAMES) {
      const fn = registered.get(CHANNELS[name])!;
      for (let i = 0; i < IPC_N; i++) {
        const payload = fuzzPayload(r, tpl[name]);
        const expectOk = schemaAccepts(name, payload);
        const res = await fn(event, payload);
        tally.payloads++;
        if (!expectOk) {
          tally.refused++;
          if (res.ok || res.error.code !== 'invalid-request') throw new Error(`${name} #${i} (seed ${SEED}) was not refused: ${JSON.stringify(res).slice(0, 300)}`);
        } else {
          tally.accepted++;
          if (!res.ok && res.error.code === 'internal') throw new Error(`${name} #${i} (seed ${SEED}) answered internal: ${res.error.message}`);
        }
      }
    }
    expect(prototypeFingerprint()).toBe(fingerprint);
    expect(stack.host.pid).toBe(pid);
    expect(stack.host.status.state).toBe('ready');
  }, LONG_TIMEOUT);

  it(`ipc-fuzz-websocket: ${WS_N} hostile payloads per channel as WebSocket frames are refused by validation`, async () => {
    const ws = stack.client.ws;
    const pid = stack.host.pid;
    const r = new Prng(SEED + 1);
    const tpl = templates(sandbox);
    let id = 1_000_000;
    for (const name of CHANNEL_NAMES) {
      // Pipelined in windows so the run stays quick; each frame gets exactly one answer.
      for (let start = 0; start < WS_N; start += 250) {
        const expected = new Map<number, boolean | 'malformed'>();
        const frames: Uint8Array[] = [];
        for (let i = start; i < Math.min(WS_N, start + 250); i++) {
          const payload = fuzzPayload(r, tpl[name]);
          const frame = encodeFrame({ t: 'req', id: ++id, ch: CHANNELS[name], p: payload });
          let decoded: unknown;
          try {
            decoded = (decodeFrame(frame) as { p: unknown }).p;
            expected.set(id, schemaAccepts(name, decoded));
          } catch {
            expected.set(id, 'malformed');
          }
          frames.push(frame);
        }
        const answers = await new Promise<ServerMessage[]>((resolve) => {
          const got: ServerMessage[] = [];
          const onMessage = (data: Buffer) => {
            const m = decodeFrame(new Uint8Array(data)) as ServerMessage;
            if (m.t !== 'res') return;
            got.push(m);
            if (got.length === frames.length) {
              ws.off('message', onMessage);
              resolve(got);
            }
          };
          ws.on('message', onMessage);
          for (const f of frames) ws.send(f);
        });
        for (const a of answers) {
          if (a.t !== 'res') continue;
          const want = a.id === -1 ? 'malformed' : expected.get(a.id);
          tally.payloads++;
          if (want === true) {
            tally.accepted++;
            if (!a.r.ok && a.r.error.code === 'internal') throw new Error(`${name} id ${a.id}: internal: ${a.r.error.message}`);
          } else {
            tally.refused++;
            if (a.r.ok || a.r.error.code !== 'invalid-request') throw new Error(`${name} id ${a.id} not refused: ${JSON.stringify(a.r).slice(0, 300)}`);
          }
        }
      }
    }
    expect(prototypeFingerprint()).toBe(fingerprint);
    expect(stack.host.pid).toBe(pid);
  }, LONG_TIMEOUT);

  it(`ipc-malformed-frames: ${MALFORMED_N} broken binary frames each get invalid-request, and the connection keeps working`, async () => {
    const r = new Prng(SEED + 2);
    const client = stack.client;
    const header = (json: string, extra: Uint8Array = new Uint8Array(0), lie?: number) => {
      const h = Buffer.from(json, 'utf8');
      const out = Buffer.alloc(4 + h.length + extra.length);
      out.writeUInt32LE(lie ?? h.length, 0);
      h.copy(out, 4);
      Buffer.from(extra).copy(out, 4 + h.length);
      return new Uint8Array(out);
    };
    const deepJson = (n: number) => `{"m":${'['.repeat(n)}1${']'.repeat(n)},"b":[]}`;
    const makers: (() => Uint8Array)[] = [
      () => new Uint8Array(r.int(4)),
      () => new Uint8Array(Array.from({ length: 4 + r.int(200) }, () => r.int(256))),
      () => header('{"m":{"t":"req","id":1,"ch":"codi:listPacks","p":{}},"b":[]}', new Uint8Array(0), 0xffffffff),
      () => header('{"m":{"t":"req","id":1,"ch":"codi:listPacks","p":{}},"b":[]}', new Uint8Array(0), 5_000_000),
      () => header('{"m":{"t":"req","id":1,"ch":"codi:openImage","p":{"source":"bytes","bytes":{"$bin":3}}},"b":[2]}', new Uint8Array(2)),
      () => header('{"m":{"t":"req","id":1,"ch":"codi:openImage","p":{}},"b":[-1]}'),
      () => header('{"m":{"t":"req","id":1,"ch":"codi:openImage","p":{}},"b":[99999999]}', new Uint8Array(8)),
      () => header('{"m":{"t":"req","id":1,"ch":"codi:listPacks","p":{}},"b":[]}', new Uint8Array(5)),
      () => header(`{"m":{"t":"req","id":1,"ch":"codi:listPacks","p":{}},"b":[${Array(100).fill(0).join(',')}]}`),
      () => header(deepJson(64 + r.int(5000))),
      () => header('{"m":{"t":"req","id":"1","ch":"codi:listPacks"},"b":[]}'),
      () => header('{"m":{"t":"res","id":1,"r":{"ok":true}},"b":[]}'),
      () => header('not json at all'),
      () => new Uint8Array([...header('{"m":1,"b":[]}').subarray(0, 4), 0xff, 0xfe, 0xfd]),
      () => header('{"m":{"t":"req","id":1.5,"ch":"codi:listPacks","p":{}},"b":[]}'),
      () => header('{"m":{"__proto__":{"polluted":"yes"},"t":"req","id":1,"ch":"codi:listPacks"},"b":[]}'),
    ];
    for (let i = 0; i < MALFORMED_N; i++) {
      const frame = makers[i % makers.length]!();
      let decodes = true;
      let isRequest = false;
      try {
        const m = decodeFrame(frame) as { t?: unknown; id?: unknown; ch?: unknown };
        isRequest = m?.t === 'req' && Number.isInteger(m.id) && typeof m.ch === 'string';
      } catch {
        decodes = false;
      }
      if (decodes && isRequest) continue; // a well-formed frame is the other tests' business
      const res = await client.sendRaw(frame);
      tally.malformedFrames++;
      expect(!res.ok && res.error.code, `maker ${i % makers.length}`).toBe('invalid-request');
    }
    // A text frame, then a good request on the same connection.
    const text = await new Promise<ServerMessage>((resolve) => {
      client.ws.once('message', (d: Buffer) => resolve(decodeFrame(new Uint8Array(d)) as ServerMessage));
      client.ws.send('{"t":"req","id":1,"ch":"codi:listPacks","p":{}}');
    });
    expect(text.t === 'res' && !text.r.ok && text.r.error.message).toMatch(/text frames are not part of the protocol/);
    expect((await client.request('listPacks', {})).ok).toBe(true);
    expect(prototypeFingerprint()).toBe(fingerprint);
  }, LONG_TIMEOUT);

  it('ipc-mask-dims: a mask whose data or size does not match is refused with a message', async () => {
    const png = await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 1, g: 1, b: 1 } } }).png().toBuffer();
    const opened = await stack.client.request<{ imageId: string }>('openImage', { source: 'bytes', bytes: new Uint8Array(png) });
    if (!opened.ok) throw new Error(opened.error.message);
    const imageId = opened.value.imageId;
    const shortData = await stack.client.request('runTool', { tool: 'inpaint', imageId, mask: { width: 8, height: 6, data: new Uint8Array(47) } });
    expect(!shortData.ok && shortData.error.message).toMatch(/mask data must be width·height bytes/);
    const otherSize = await stack.client.request('runTool', { tool: 'inpaint', imageId, mask: { width: 6, height: 8, data: new Uint8Array(48) } });
    expect(!otherSize.ok && otherSize.error.message).toMatch(/the mask is 6×8 but the image is 8×6|no installed pack/);
    const negative = await stack.client.request('runTool', { tool: 'inpaint', imageId, mask: { width: -8, height: -6, data: new Uint8Array(48) } });
    expect(!negative.ok && negative.error.code).toBe('invalid-request');
  });

  it('ipc-unexpected-sender: other origins, hosts, frames and senders are refused before the payload is read', async () => {
    // WebSocket from a foreign page, and DNS rebinding (foreign Host header).
    await expect(WsClient.connect(stack.server.port, 'https://evil.example')).rejects.toThrow(/403|Unexpected server response/);
    await expect(WsClient.connect(stack.server.port, 'null')).rejects.toThrow(/403|Unexpected server response/);
    const rebinding = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${stack.server.port}/ws`, { origin: 'http://evil.example', headers: { Host: 'evil.example' } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    expect(rebinding).not.toBe(101);
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port: stack.server.port, path: '/', headers: { Host: 'attacker.example' } }, (res) => resolve(res.statusCode ?? 0)).on('error', () => resolve(-1));
    });
    expect(status).toBe(421);
    // Electron: sub-frames, foreign pages, about:blank and missing frames get 'forbidden' without the handler running.
    const calls: unknown[] = [];
    const registered = new Map<string, (e: IpcMainInvokeEventLike, payload: unknown) => Promise<Result<unknown>>>();
    const handle = createHandle({ handle: (ch, fn) => registered.set(ch, fn as never) });
    for (const name of CHANNEL_NAMES) {
      handle(CHANNELS[name], SCHEMAS[name].request, async (p) => {
        calls.push(p);
        return { ok: true, value: null };
      });
    }
    const frames = [
      { url: 'https://evil.example/', parent: null },
      { url: 'about:blank', parent: null },
      { url: '', parent: null },
      { url: 'file:///etc/passwd', parent: null },
      { url: 'data:text/html,<script>1</script>', parent: null },
      { url: 'app://codi.evil/index.html', parent: null },
      { url: APP_URL, parent: { url: APP_URL, parent: null } },
      null,
    ];
    for (const name of CHANNEL_NAMES) {
      for (const senderFrame of frames) {
        const res = await registered.get(CHANNELS[name])!({ senderFrame }, {});
        expect(!res.ok && res.error.code, `${name} from ${senderFrame?.url}`).toBe('forbidden');
      }
    }
    expect(calls).toEqual([]);
  });

  it('web-token-required: without the session token (none, wrong, or with a forged Origin) nothing is served and no socket handler runs', async () => {
    // The same engine behind a second server whose host records every use after start-up:
    // the socket's connection handler reads host.status, every contract handler calls the host.
    const touched: string[] = [];
    let recording = false;
    const spy = new Proxy(stack.host, {
      get(target, prop) {
        if (recording) touched.push(String(prop));
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const server = await startWebServer({ host: spy, rendererDir: path.join(fuzz.tmp, 'renderer'), port: 0, autosaveDir: path.join(fuzz.tmp, 'autosave-token') });
    try {
      const { port, token } = server;
      const own = `http://127.0.0.1:${port}`;
      const cookie = (value: string, name = sessionCookieName(port)) => ({ Cookie: `${name}=${value}` });
      const wrongSameLength = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
      recording = true;
      const refused: [string, { origin: string; headers?: Record<string, string>; query?: string }, number][] = [
        ['no token, forged own Origin', { origin: own }, 401],
        ['wrong token of the same length', { origin: own, headers: cookie(wrongSameLength) }, 401],
        ['empty token', { origin: own, headers: cookie('') }, 401],
        ['token prefix', { origin: own, headers: cookie(token.slice(0, 8)) }, 401],
        ['token under another port\'s cookie', { origin: own, headers: cookie(token, sessionCookieName(port + 1)) }, 401],
        ['token in the query, not the cookie', { origin: own, query: `?token=${token}` }, 401],
        ['no token, localhost Origin', { origin: `http://localhost:${port}` }, 401],
        ['right token, foreign Origin', { origin: 'https://evil.example', headers: cookie(token) }, 403],
      ];
      for (const [what, opts, code] of refused) {
        expect(await handshake(port, opts), what).toEqual({ status: code, frames: 0 });
      }
      const pages: [string, Record<string, string>, number][] = [
        ['/', {}, 401],
        ['/index.html', cookie(wrongSameLength), 401],
        ['/assets/app.js', {}, 401],
        [`/token/${wrongSameLength}/`, {}, 403],
        ['/token/', {}, 403],
        [`/?token=${token}`, {}, 401],
      ];
      for (const [p, headers, code] of pages) {
        const r = await httpGet(port, p, headers);
        expect({ p, status: r.status, cookie: r.setCookie, page: r.body.includes('<title>t</title>') }).toEqual({ p, status: code, cookie: undefined, page: false });
      }
      expect(touched, 'host used by a refused client').toEqual([]);
      // The probe sees a handler run: the user's page (cookie from the start URL) gets in.
      const start = await httpGet(port, new URL(server.url).pathname, {});
      expect(start.status).toBe(303);
      const granted = start.setCookie?.[0]?.split(';')[0] ?? '';
      expect(granted).toBe(`${sessionCookieName(port)}=${token}`);
      expect((await httpGet(port, '/', { Cookie: granted })).body).toContain('<title>t</title>');
      expect(await handshake(port, { origin: own, headers: { Cookie: granted } })).toEqual({ status: 101, frames: 1 });
      expect(touched).toContain('status');
    } finally {
      recording = false;
      await server.close();
    }
  });

  it('web-token-logged-once: the token appears in the server\'s output only in the start URL it prints', async () => {
    const packs = path.join(fuzz.tmp, 'no-packs');
    await mkdir(packs, { recursive: true });
    const web = await spawnWebServer({
      CODI_PACKS: packs,
      CODI_USER_PACKS: path.join(fuzz.tmp, 'no-user-packs'),
      CODI_USER_DATA: path.join(fuzz.tmp, 'user-data'),
      CODI_RENDERER_DIR: path.join(fuzz.tmp, 'renderer'),
      CODI_EP: 'cpu',
      CODI_THREADS: '1',
    });
    try {
      const start = new URL(web.url);
      const port = Number(start.port);
      const token = /^\/token\/([^/]+)\/$/.exec(start.pathname)?.[1] ?? '';
      expect(Buffer.from(token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
      // Traffic that a logging server would write out: refused, wrong and right tokens, the socket.
      expect((await httpGet(port, '/', {})).status).toBe(401);
      expect((await httpGet(port, `/token/${token.slice(1)}x/`, {})).status).toBe(403);
      const granted = (await httpGet(port, `${start.pathname}?autosaveMs=5`, {})).setCookie?.[0]?.split(';')[0] ?? '';
      expect((await httpGet(port, '/', { Cookie: granted })).status).toBe(200);
      expect((await handshake(port, { origin: `http://127.0.0.1:${port}` })).status).toBe(401);
      expect((await handshake(port, { origin: `http://127.0.0.1:${port}`, headers: { Cookie: granted } })).status).toBe(101);
    } finally {
      await web.stop();
    }
    const token = new URL(web.url).pathname.split('/')[2]!;
    expect(web.output().split(token).length - 1, web.output()).toBe(1);
    expect(web.output()).toContain(`CoDi Studio is running at ${web.url}\n`);
  });

  it('fuzzing wrote nothing outside the sandbox and the engine never restarted', async () => {
    expect((await readdir(sandbox)).filter((f) => f !== 'out')).toEqual([]);
    expect(stack.host.status.state).toBe('ready');
    console.log(`[faults] IPC fuzz: ${tally.payloads} payloads (${tally.refused} refused, ${tally.accepted} schema-valid), ${tally.malformedFrames} malformed frames`);
    expect(tally.payloads).toBeGreaterThanOrEqual(CHANNEL_NAMES.length * (IPC_N + WS_N));
  });
});

/** A WebSocket handshake: the HTTP status it got (101 = upgraded) and the frames that arrived in 300 ms. */
function handshake(port: number, opts: { origin: string; headers?: Record<string, string>; query?: string }): Promise<{ status: number; frames: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${opts.query ?? ''}`, { origin: opts.origin, headers: opts.headers });
    let frames = 0;
    ws.on('message', () => frames++);
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, frames });
      ws.terminate();
    });
    ws.once('open', () => setTimeout(() => {
      ws.close();
      resolve({ status: 101, frames });
    }, 300));
    // 'on', not 'once': terminating a refused handshake may report a second error.
    ws.on('error', () => resolve({ status: -1, frames }));
  });
}

function httpGet(port: number, urlPath: string, headers: Record<string, string>): Promise<{ status: number; body: string; setCookie: string[] | undefined }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] }));
    }).on('error', reject);
  });
}
