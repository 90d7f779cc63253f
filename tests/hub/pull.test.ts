/**
 * pullPack against the mock Hub: a complete pull, resume after a dropped connection and after a
 * cancel (bytes not fetched twice), a corrupted file, a gated repo with and without its token (the
 * token in no file and no message), a stall, a disk that is too small, an escaping path, a licence
 * that needs acceptance, a proxy; then verify/repair and remove of the installed pack.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { HubError, describeRepo, pullPack, removePack, verifyPack } from '../../electron/hub/index.ts';
import type { PullProgress } from '../../electron/hub/index.ts';
import { parseManifest } from '../../core/packs/manifest.ts';
import { startMockHub, tinyControlNetFiles, tinyRepoFiles } from './mock-hub.ts';
import type { MockHub } from './mock-hub.ts';

const TOKEN = 'hf_mockTOKEN_1234567890abcdef';
const REPO = 'tester/tiny-sd-onnx';
const GATED = 'tester/gated-sd-onnx';
const RAIL = 'tester/openrail-sd-onnx';
const DATA = 'unet/model.onnx_data';

let hub: MockHub;
let tmp: string;
let files: Map<string, Buffer>;
let packsDir: string;
let n = 0;

beforeAll(async () => {
  files = await tinyRepoFiles();
  hub = await startMockHub([
    { repo: REPO, files },
    { repo: GATED, files, gated: 'manual', token: TOKEN, licence: 'other' },
    { repo: RAIL, files, licence: 'creativeml-openrail-m' },
  ]);
});
afterAll(async () => {
  await hub?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  hub.switches = {};
  hub.resetCounters();
  tmp ??= await mkdtemp(path.join(os.tmpdir(), 'codi-hub-pull-'));
  packsDir = path.join(tmp, `packs-${n++}`);
});

/** The HubError a promise rejects with. */
async function hubError(p: Promise<unknown>): Promise<HubError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubError);
  return err as HubError;
}

const resolveRequests = () => hub.requests.filter((r) => r.url.includes('/resolve/') || r.server === 'cdn');
const base = () => ({ baseUrl: hub.url, packsDir, acceptLicence: false, env: {} });

/** Every file under `dir` (recursively), dot folders included. */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

describe('pullPack', () => {
  it('describeRepo resolves the commit, licence, gating and the paged file list with LFS sha256', async () => {
    const info = await describeRepo(`${REPO}@main`, { baseUrl: hub.url, env: {} });
    expect(info.revision).toBe(hub.shaOf(REPO));
    expect(info.licence).toBe('mit');
    expect(info.gated).toBe(false);
    expect(info.files.map((f) => f.path).sort()).toEqual([...files.keys()].sort());
    expect(info.files.find((f) => f.path === DATA)?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.files.find((f) => f.path === 'model_index.json')?.sha256).toBeNull();
    // 19 files + 6 folders at 5 entries a page.
    expect(hub.requests.filter((r) => r.url.includes('/tree/')).length).toBeGreaterThan(3);
    expect((await describeRepo(GATED, { baseUrl: hub.url, env: {} })).gated).toBe('manual');
  });

  it('a complete pull installs a verified pack with its source, licence and model card, and only the ONNX pack files', async () => {
    const progress: PullProgress[] = [];
    const r = await pullPack(REPO, { ...base(), onProgress: (p) => progress.push(p) });
    expect(r.name).toBe('tiny-sd-onnx');
    expect(r.packDir).toBe(path.join(await import('node:fs/promises').then((f) => f.realpath(packsDir)), 'tiny-sd-onnx'));
    expect(r.revision).toBe(hub.shaOf(REPO));
    const manifest = parseManifest(await readFile(path.join(r.packDir, 'manifest.json'), 'utf8'));
    expect(manifest.task).toBe('inpaint');
    expect(manifest.source).toEqual({ kind: 'huggingface', endpoint: hub.url, repo: REPO, revision: hub.shaOf(REPO), licence: 'mit', gated: false, licenceAcceptedAt: null });
    expect(await readFile(path.join(r.packDir, 'MODEL_CARD.md'), 'utf8')).toMatch(/licence: mit[\s\S]*Tiny test pipeline/);
    expect(await readFile(path.join(r.packDir, 'LICENSE'), 'utf8')).toMatch(/Permission is hereby granted/);
    // The PyTorch weights were left on the Hub.
    expect(hub.requests.some((q) => q.url.includes('safetensors'))).toBe(false);
    expect(hub.served(DATA)).toBe(files.get(DATA)!.length);
    expect(r.bytes).toBe([...files].filter(([p]) => !/safetensors|README|LICENSE/.test(p)).reduce((a, [, b]) => a + b.length, 0));
    // Staging is gone; nothing half-installed is left beside the pack.
    expect((await readdir(packsDir)).filter((e) => e !== '.hub-staging')).toEqual(['tiny-sd-onnx']);
    expect(await readdir(path.join(packsDir, '.hub-staging'))).toEqual([]);
    expect(progress[0]?.phase).toBe('resolving');
    expect(progress.at(-1)).toMatchObject({ phase: 'done', bytesDone: progress.at(-1)!.bytesTotal });
    expect(await verifyPack(r.packDir)).toEqual({ ok: true, problems: [], repaired: [] });
    // Pulling again under the same name is refused before any download.
    hub.resetCounters();
    expect((await hubError(pullPack(REPO, base()))).code).toBe('exists');
    expect(resolveRequests()).toEqual([]);
  });

  it('a connection dropped at 50 % is resumed with a Range request: no byte is fetched twice', async () => {
    hub.switches = { killAtHalf: { path: DATA } };
    const r = await pullPack(REPO, base());
    const size = files.get(DATA)!.length;
    expect(hub.served(DATA)).toBe(size);
    const asked = hub.requests.filter((q) => q.server === 'cdn' && q.url.includes(encodeURIComponent(DATA)));
    expect(asked.map((q) => q.range)).toEqual([null, `bytes=${size >> 1}-`]);
    expect((await verifyPack(r.packDir)).ok).toBe(true);
  });

  it('a cancelled pull installs nothing and keeps its partial files; pulling again resumes', async () => {
    hub.switches = { bytesPerSecond: 16 * 1024, pageSize: 100 };
    const controller = new AbortController();
    const progress: PullProgress[] = [];
    const err = await hubError(
      pullPack(REPO, {
        ...base(),
        concurrency: 1,
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p);
          if (p.bytesDone > 20_000) controller.abort();
        },
      }),
    );
    expect(err.code).toBe('cancelled');
    expect(err.message).toMatch(/pulling again resumes/);
    expect(await readdir(packsDir)).toEqual(['.hub-staging']);
    const firstRun = hub.totalServed();
    expect(firstRun).toBeGreaterThan(20_000);
    // Throttled to 16 kB/s: the progress saw the bytes, the speed and an ETA on the way.
    const mid = progress.filter((p) => p.phase === 'downloading' && p.bytesDone > 0 && p.bytesDone < p.bytesTotal);
    expect(mid.length).toBeGreaterThan(3);
    expect(mid.at(-1)!.bytesPerSecond).toBeGreaterThan(4_000);
    expect(mid.at(-1)!.bytesPerSecond).toBeLessThan(64_000);
    expect(mid.at(-1)!.etaSeconds).toBeGreaterThan(0);
    expect(mid.at(-1)!.bytesDone).toBeLessThanOrEqual(firstRun);
    hub.switches = {};
    hub.resetCounters();
    await pullPack(REPO, base());
    // The second run fetched only the rest (with concurrency 1, at most the one 1 kB chunk in
    // flight when the cancel came is fetched again), resuming the partial file with a Range request.
    const packBytes = [...files].filter(([p]) => !/safetensors/.test(p)).reduce((a, [, b]) => a + b.length, 0);
    expect(hub.totalServed()).toBeGreaterThanOrEqual(packBytes - firstRun);
    expect(hub.totalServed()).toBeLessThanOrEqual(packBytes - firstRun + 1024);
    expect(hub.requests.some((r) => /^bytes=[1-9]\d*-$/.test(r.range ?? ''))).toBe(true);
  });

  it('a file that fails its sha256 is refused and nothing is installed', async () => {
    hub.switches = { corrupt: [DATA] };
    const err = await hubError(pullPack(REPO, base()));
    expect(err.code).toBe('checksum');
    expect(err.message).toMatch(/"unet\/model.onnx_data" failed its sha256 check .*nothing was installed/);
    expect((await readdir(packsDir)).filter((e) => !e.startsWith('.'))).toEqual([]);
    // The corrupt bytes are not kept to be "resumed".
    expect((await allFiles(packsDir)).some((f) => f.endsWith('model.onnx_data') || f.endsWith('model.onnx_data.partial'))).toBe(false);
  });

  it('a gated repository: without a token a clear message and no download; with it the pull works and the token is in no file or message', async () => {
    const noToken = await hubError(pullPack(GATED, { ...base(), acceptLicence: true }));
    expect(noToken.code).toBe('gated');
    expect(noToken.message).toMatch(/gated repository: sign in at .*tester\/gated-sd-onnx, accept its conditions.*HF_TOKEN/);
    expect(resolveRequests()).toEqual([]);

    const wrong = await hubError(pullPack(GATED, { ...base(), acceptLicence: true, token: 'hf_not_granted' }));
    expect(wrong.code).toBe('gated');
    expect(wrong.message).toMatch(/has not been granted access/);
    expect(wrong.message).not.toContain('hf_not_granted');

    const notAccepted = await hubError(pullPack(GATED, { ...base(), token: TOKEN }));
    expect(notAccepted.code).toBe('licence-not-accepted');
    expect(notAccepted.message).toMatch(/gated .*--accept-licence/);

    hub.resetCounters();
    const progress: string[] = [];
    const r = await pullPack(GATED, { ...base(), acceptLicence: true, token: TOKEN, onProgress: (p) => progress.push(JSON.stringify(p)) });
    const manifest = parseManifest(await readFile(path.join(r.packDir, 'manifest.json'), 'utf8'));
    expect(manifest.source).toMatchObject({ repo: GATED, licence: 'other', gated: 'manual' });
    expect(Date.parse(manifest.source!.licenceAcceptedAt!)).toBeGreaterThan(Date.now() - 60_000);
    // The token went to the Hub's origin only: never to the CDN a download was redirected to.
    expect(hub.requests.filter((q) => q.server === 'hub').every((q) => q.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(hub.requests.filter((q) => q.server === 'cdn').length).toBeGreaterThan(0);
    expect(hub.requests.filter((q) => q.server === 'cdn').every((q) => q.authorization === null)).toBe(true);
    for (const f of await allFiles(tmp)) expect((await readFile(f)).includes(TOKEN), f).toBe(false);
    for (const line of [...progress, noToken.message, wrong.message, notAccepted.message]) expect(line).not.toContain(TOKEN);
  });

  it('a stalled download fails with a clear message and keeps its partial; the next pull resumes it', async () => {
    hub.switches = { stallAfterBytes: { path: DATA, bytes: 3000 } };
    const started = Date.now();
    const err = await hubError(pullPack(REPO, { ...base(), stallTimeoutMs: 400 }));
    expect(err.code).toBe('stalled');
    expect(err.message).toMatch(/no data from http:\/\/127\.0\.0\.1:\d+ for 0\.4 s while downloading "unet\/model.onnx_data" \(3\.0 kB of \d+\.\d kB\); the partial download is kept: pull again to resume/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const partial = (await allFiles(packsDir)).find((f) => f.endsWith(`${DATA}.partial`));
    expect(partial).toBeDefined();
    expect((await stat(partial!)).size).toBe(3000);
    expect((await readdir(packsDir)).filter((e) => !e.startsWith('.'))).toEqual([]);
    hub.switches = {};
    await pullPack(REPO, base());
    expect(hub.served(DATA)).toBe(files.get(DATA)!.length);
  });

  it('a server that ignores Range gets the file from the start again; an empty file is fine', async () => {
    hub.switches = { stallAfterBytes: { path: DATA, bytes: 2048 } };
    expect((await hubError(pullPack(REPO, { ...base(), stallTimeoutMs: 300 }))).code).toBe('stalled');
    hub.switches = { ignoreRange: true };
    hub.resetCounters();
    const progress: PullProgress[] = [];
    const r = await pullPack(REPO, { ...base(), onProgress: (p) => progress.push(p) });
    expect(hub.requests.find((q) => q.url.includes(encodeURIComponent(DATA)) && q.server === 'cdn')?.range).toBe('bytes=2048-');
    expect(hub.served(DATA)).toBe(files.get(DATA)!.length);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', bytesDone: progress.at(-1)!.bytesTotal });
    expect((await verifyPack(r.packDir)).ok).toBe(true);

    hub.add({ repo: 'tester/with-empty', files: new Map([...files, ['scheduler/.gitkeep', Buffer.alloc(0)]]) });
    const e = await pullPack('tester/with-empty', base());
    expect((await stat(path.join(e.packDir, 'scheduler', '.gitkeep'))).size).toBe(0);
  });

  it('a second pull of the same repo while one runs is refused (they would write the same partial files)', async () => {
    hub.switches = { bytesPerSecond: 64 * 1024 };
    const first = pullPack(REPO, base());
    await new Promise((r) => setTimeout(r, 150));
    const second = await hubError(pullPack(REPO, { ...base(), name: 'other-name' }));
    expect(second.code).toBe('exists');
    expect(second.message).toBe(`another pull of "${REPO}" is running; wait for it or cancel it`);
    await first;
    // A lock left by a process that is gone does not block.
    const stage = path.join(packsDir, '.hub-staging', `tester--tiny-sd-onnx@${hub.shaOf(REPO)}`);
    await writeFile(`${stage}.lock`, '2147483646');
    hub.switches = {};
    expect((await pullPack(REPO, { ...base(), name: 'after-crash' })).name).toBe('after-crash');
    expect(await readdir(path.join(packsDir, '.hub-staging'))).toEqual([]);
  });

  it('a ControlNet repo installs against its backbone pack; without one the files go back to staging and a retry downloads nothing', async () => {
    hub.add({ repo: 'tester/backbone', files: await tinyRepoFiles({ inChannels: 4, residuals: true }) });
    hub.add({ repo: 'tester/controlnet', files: await tinyControlNetFiles() });
    await pullPack('tester/backbone', { ...base(), name: 'bb' });
    const err = await hubError(pullPack('tester/controlnet', base()));
    expect(err.code).toBe('not-a-pack');
    expect(err.message).toMatch(/"tester\/controlnet" did not pass the pack checks: a ControlNet pack needs --backbone/);
    expect((await readdir(packsDir)).filter((e) => !e.startsWith('.'))).toEqual(['bb']);
    hub.resetCounters();
    const r = await pullPack('tester/controlnet', { ...base(), backbone: 'bb' });
    expect(resolveRequests()).toEqual([]);
    const m = parseManifest(await readFile(path.join(r.packDir, 'manifest.json'), 'utf8'));
    expect(m.task).toBe('restore');
    expect(m.backbone?.pack).toBe('bb');
  });

  it('refuses before downloading what cannot fit on the disk', async () => {
    hub.switches = { hugeSizes: true };
    const err = await hubError(pullPack(REPO, base()));
    expect(err.code).toBe('disk-space');
    expect(err.message).toMatch(/the pack needs \d+\.\d+ GB more on the disk holding .*, but only .* is free .*nothing was downloaded/);
    expect(resolveRequests()).toEqual([]);
  });

  it('refuses a listing with a path that leaves the pack folder, downloading nothing', async () => {
    hub.switches = { escapeEntry: true };
    const err = await hubError(pullPack(REPO, base()));
    expect(err.code).toBe('unsafe-path');
    expect(err.message).toMatch(/"\.\.\/escape\.onnx", a path that would leave the pack folder/);
    expect(resolveRequests()).toEqual([]);
    expect(await readdir(tmp)).not.toContain('escape.onnx');
  });

  it('a licence with use conditions needs acceptance, which the manifest records', async () => {
    const err = await hubError(pullPack(RAIL, base()));
    expect(err.code).toBe('licence-not-accepted');
    expect(err.message).toMatch(/creativeml-openrail-m, sets conditions on use/);
    expect(resolveRequests()).toEqual([]);
    const r = await pullPack(RAIL, { ...base(), acceptLicence: true, name: 'rail' });
    const m = parseManifest(await readFile(path.join(r.packDir, 'manifest.json'), 'utf8'));
    expect(m.source?.licence).toBe('creativeml-openrail-m');
    expect(m.source?.licenceAcceptedAt).not.toBeNull();
  });

  it('unknown repositories and revisions get a not-found message', async () => {
    const err = await hubError(pullPack('tester/nothing-here', base()));
    expect(err.code).toBe('not-found');
    expect(err.message).toMatch(/"tester\/nothing-here" was not found on http:\/\/127\.0\.0\.1:\d+ \(a private repository also needs a token/);
    expect((await hubError(pullPack(`${REPO}@no-such-branch`, base()))).code).toBe('not-found');
    expect((await hubError(pullPack('../etc', base()))).message).toMatch(/not a Hub repository id/);
  });

  it('verifyPack finds a damaged file and repairs it from the recorded commit; removePack removes the pack', async () => {
    const r = await pullPack(REPO, base());
    const damaged = path.join(r.packDir, DATA);
    const bytes = await readFile(damaged);
    bytes[10] = (bytes[10] as number) ^ 1;
    await writeFile(damaged, bytes);
    const check = await verifyPack(r.packDir, { env: {} });
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual(['"unet/model.onnx_data" failed its checksum (the file is corrupt or was modified)']);
    hub.resetCounters();
    // No baseUrl given: the endpoint recorded in the manifest is used.
    const fixed = await verifyPack(r.packDir, { env: {}, repair: true });
    expect(fixed).toEqual({ ok: true, problems: [], repaired: [DATA] });
    expect(hub.served(DATA)).toBe(bytes.length);
    expect(await readFile(damaged)).toEqual(files.get(DATA));
    await removePack(packsDir, r.name);
    expect((await readdir(packsDir)).filter((e) => !e.startsWith('.'))).toEqual([]);
    expect((await hubError(removePack(packsDir, r.name))).code).toBe('not-found');
    expect((await hubError(removePack(packsDir, '../x'))).code).toBe('not-found');
  });

  it('honours HTTP_PROXY, and NO_PROXY exempts the Hub from it', async () => {
    const tunnelled: string[] = [];
    const proxy = http.createServer((_req, res) => {
      res.writeHead(405);
      res.end();
    });
    const tunnels = new Set<net.Socket>();
    proxy.on('connect', (req, client: net.Socket, head: Buffer) => {
      tunnelled.push(req.url ?? '');
      tunnels.add(client);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const info = await describeRepo(REPO, { baseUrl: hub.url, env: { HTTP_PROXY: proxyUrl } });
      expect(info.revision).toBe(hub.shaOf(REPO));
      expect(tunnelled).toContain(new URL(hub.url).host);
      tunnelled.length = 0;
      await describeRepo(REPO, { baseUrl: hub.url, env: { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' } });
      expect(tunnelled).toEqual([]);
    } finally {
      for (const t of tunnels) t.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
