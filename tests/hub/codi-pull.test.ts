/**
 * A CoDi SD export published on the (mock) Hub: `codi models pull` takes codi_adapter/ with the
 * pipeline, installs the backbone and the adapter pack through import's checks (both or neither),
 * `codi models` lists both with their source, and `codi run` samples with the adapter. A corrupt
 * adapter graph, an adapter pinned to another UNet and a taken backbone name are refused with
 * nothing installed, and the download resumes. Skipped, with the reason, when no Python with
 * torch can build the export.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../electron/cli/codi.ts';
import { capture } from '../diffusers/fixtures.ts';
import type { CapturedIo } from '../diffusers/fixtures.ts';
import { torchPython, writeTinyCodiExport } from '../diffusers/codi-fixtures.ts';
import { hubCliEnv, writeInputAndMask } from './cli-fixtures.ts';
import { readTree, startMockHub } from './mock-hub.ts';
import type { MockHub } from './mock-hub.ts';

const W = 40;
const H = 30;
const ADAPTER = 'codi_adapter/model.onnx';
let hub: MockHub;
let tmp: string;
let env: NodeJS.ProcessEnv;
let repoFiles: Map<string, Buffer>;

const lines = (io: CapturedIo) => [...io.stdout, ...io.stderr].join('\n');
const packsIn = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((e) => !e.startsWith('.')).sort();
const envWith = (packs: string) => ({ ...env, CODI_USER_PACKS: packs });

async function pull(args: string[], e = env): Promise<{ code: number; io: CapturedIo }> {
  const io = capture(e);
  return { code: await main(['models', 'pull', ...args], io), io };
}

const runIf = torchPython.python ? describe : describe.skip;
if (!torchPython.python) console.warn(`tests/hub/codi-pull.test.ts skipped: ${torchPython.reason}`);

runIf('codi models pull of a CoDi SD export', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-hub-codi-'));
    await writeTinyCodiExport(path.join(tmp, 'export'), { task: 'inpaint', seed: 0 });
    const files = (repoFiles = await readTree(path.join(tmp, 'export')));
    files.set('README.md', Buffer.from('---\nlicense: mit\nlibrary_name: diffusers\n---\n\n# Tiny CoDi inpaint adapter\n'));
    // The same export whose codi_adapter.json pins another backbone UNet (files of two exports mixed).
    const mixed = new Map(files);
    const json = JSON.parse((files.get('codi_adapter/codi_adapter.json') as Buffer).toString('utf8')) as Record<string, unknown>;
    mixed.set('codi_adapter/codi_adapter.json', Buffer.from(JSON.stringify({ ...json, backboneUnetSha256: 'ab'.repeat(32) }, null, 2)));
    hub = await startMockHub([
      { repo: 'tester/codi-inpaint', files, licence: 'mit' },
      { repo: 'tester/codi-mixed', files: mixed, licence: 'mit' },
      { repo: 'tester/codi-badjson', files: new Map([...files, ['codi_adapter/codi_adapter.json', Buffer.from('{"task": 3}')]]), licence: 'mit' },
    ]);
    env = hubCliEnv(tmp, path.join(tmp, 'user-packs'), hub.url);
    await writeInputAndMask(tmp, W, H);
  }, 300_000);
  afterAll(async () => {
    await hub?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('installs the backbone and the adapter with their source; codi models lists both; codi run inpaints with the adapter', async () => {
    const { code, io } = await pull(['tester/codi-inpaint', '--name', 'hub-codi']);
    expect(code, lines(io)).toBe(0);
    expect(hub.requests.some((r) => r.url.endsWith(`/${ADAPTER}`))).toBe(true);
    expect(io.stdout).toContain('backbone: hub-codi-backbone (installed with it)');
    const packs = path.join(tmp, 'user-packs');
    expect(await packsIn(packs)).toEqual(['hub-codi', 'hub-codi-backbone']);
    for (const p of ['hub-codi', 'hub-codi-backbone']) {
      const m = JSON.parse(await readFile(path.join(packs, p, 'manifest.json'), 'utf8')) as { source?: { repo: string; revision: string; licence: string; licenceAcceptedAt: string | null } };
      expect(m.source, p).toMatchObject({ repo: 'tester/codi-inpaint', revision: expect.stringMatching(/^[0-9a-f]{40}$/), licence: 'mit', licenceAcceptedAt: null });
    }
    const adapter = JSON.parse(await readFile(path.join(packs, 'hub-codi', 'manifest.json'), 'utf8')) as { backbone: { pack: string }; method: string };
    expect(adapter).toMatchObject({ backbone: { pack: 'hub-codi-backbone' }, method: 'pe-codi' });

    const list = capture(env);
    expect(await main(['models'], list)).toBe(0);
    const listed = list.stdout.join('\n');
    expect(listed).toMatch(/hub-codi\s+inpaint\s+.*user: tester\/codi-inpaint@[0-9a-f]{8}, licence mit/);
    expect(listed).toMatch(/hub-codi-backbone\s+.*user: tester\/codi-inpaint@[0-9a-f]{8}, licence mit/);

    const verify = capture(env);
    expect(await main(['models', 'verify', 'hub-codi'], verify), lines(verify)).toBe(0);

    const out = path.join(tmp, 'out.png');
    const run = capture(env);
    expect(await main(['run', 'hub-codi', path.join(tmp, 'in.png'), '--mask', path.join(tmp, 'mask.png'), '-o', out, '--steps', '2', '--seed', '3'], run), lines(run)).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([W, H]);
  }, 120_000);

  it('a second adapter with the same UNet reuses the installed backbone', async () => {
    const { code, io } = await pull(['tester/codi-inpaint', '--name', 'hub-codi-2']);
    expect(code, lines(io)).toBe(0);
    expect(io.stdout).toContain('backbone: hub-codi-backbone (already installed, same UNet)');
    expect(await packsIn(path.join(tmp, 'user-packs'))).toEqual(['hub-codi', 'hub-codi-2', 'hub-codi-backbone']);
  }, 60_000);

  it('a corrupt codi_adapter/model.onnx is refused with nothing installed; pulling again resumes', async () => {
    const packs = path.join(tmp, 'corrupt-packs');
    hub.switches = { corrupt: [ADAPTER] };
    const bad = await pull(['tester/codi-inpaint'], envWith(packs));
    expect(bad.code).toBe(1);
    expect(bad.io.stderr.at(-1)).toMatch(/"codi_adapter\/model\.onnx" .*nothing was installed/);
    expect(await packsIn(packs)).toEqual([]);
    expect((await readdir(packs)).filter((e) => e !== '.hub-staging')).toEqual([]);

    hub.switches = {};
    hub.resetCounters();
    const again = await pull(['tester/codi-inpaint'], envWith(packs));
    expect(again.code, lines(again.io)).toBe(0);
    // The refused file comes again whole; what had arrived of the others (stopped by the failure) is not fetched again.
    expect(hub.bytesServed.get(ADAPTER)).toBe(repoFiles.get(ADAPTER)?.length);
    const repoBytes = [...repoFiles.values()].reduce((a, b) => a + b.length, 0);
    expect(hub.totalServed()).toBeLessThan(repoBytes);
    expect(await packsIn(packs)).toEqual(['codi-inpaint', 'codi-inpaint-backbone']);
  }, 60_000);

  it('an adapter pinned to another UNet, a taken backbone name or a bad codi_adapter.json: refused, nothing installed, the download kept', async () => {
    const packs = path.join(tmp, 'mixed-packs');
    const { code, io } = await pull(['tester/codi-mixed'], envWith(packs));
    expect(code).toBe(1);
    expect(io.stderr.at(-1)).toMatch(/"tester\/codi-mixed" did not pass the CoDi adapter checks: codi_adapter\/ was trained on a backbone UNet with sha256 abababababab…/);
    expect(await packsIn(packs)).toEqual([]);
    expect((await readdir(packs)).filter((e) => e !== '.hub-staging')).toEqual([]);
    const staged = await readdir(path.join(packs, '.hub-staging'));
    expect(staged.filter((e) => !e.endsWith('.lock'))).toHaveLength(1);

    // The backbone's name taken by another folder: neither pack goes in (the adapter never without its backbone).
    await mkdir(path.join(packs, 'taken-backbone'));
    const taken = await pull(['tester/codi-inpaint', '--name', 'taken'], envWith(packs));
    expect(taken.code).toBe(1);
    expect(taken.io.stderr.at(-1)).toMatch(/a pack named "taken-backbone" \(this adapter's backbone\) is already installed/);
    expect(await packsIn(packs)).toEqual(['taken-backbone']);
    expect(await readdir(path.join(packs, 'taken-backbone'))).toEqual([]);
    await rm(path.join(packs, 'taken-backbone'), { recursive: true });

    const badJson = await pull(['tester/codi-badjson'], envWith(packs));
    expect(badJson.code).toBe(1);
    expect(badJson.io.stderr.at(-1)).toMatch(/did not pass the CoDi adapter checks: codi_adapter\/codi_adapter\.json is invalid at /);
    // No pack and no half-installed folder left behind by any of the three.
    expect(await readdir(packs)).toEqual(['.hub-staging']);
  }, 60_000);
});
