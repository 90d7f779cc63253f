/**
 * `codi models pull | verify | remove` against the mock Hub, then `codi models` and `codi run`
 * on the pulled pack through the real CLI and engine process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../electron/cli/codi.ts';
import { capture } from '../diffusers/fixtures.ts';
import type { CapturedIo } from '../diffusers/fixtures.ts';
import { hubCliEnv, writeInputAndMask } from './cli-fixtures.ts';
import { startMockHub, tinyRepoFiles } from './mock-hub.ts';
import type { MockHub } from './mock-hub.ts';

const TOKEN = 'hf_cliSECRET_0987654321';
const W = 40;
const H = 30;
let hub: MockHub;
let tmp: string;
let userPacks: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const files = await tinyRepoFiles();
  hub = await startMockHub([
    { repo: 'tester/tiny-inpaint', files },
    { repo: 'tester/rail', files, licence: 'openrail' },
    { repo: 'tester/gated', files, gated: 'auto', token: TOKEN, licence: 'mit' },
  ]);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-hub-cli-'));
  userPacks = path.join(tmp, 'user-packs');
  env = hubCliEnv(tmp, userPacks, hub.url);
  await writeInputAndMask(tmp, W, H);
});
afterAll(async () => {
  await hub?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const lines = (io: CapturedIo) => [...io.stdout, ...io.stderr].join('\n');

describe('codi models pull / verify / remove', () => {
  it('pulls a pack (licence shown first, plain progress lines), lists it, and codi run uses it', async () => {
    const io = capture(env);
    expect(await main(['models', 'pull', 'tester/tiny-inpaint', '--name', 'hub-inpaint'], io), lines(io)).toBe(0);
    expect(io.stderr[0]).toMatch(/^tester\/tiny-inpaint at [0-9a-f]{12}: \d+ files, 0\.\d MB$/);
    expect(io.stderr[1]).toMatch(/^licence: mit; see http:\/\/127\.0\.0\.1:\d+\/tester\/tiny-inpaint$/);
    expect(io.stderr.some((l) => /^downloading 100%\s+0\.\d MB \/ 0\.\d MB/.test(l))).toBe(true);
    expect(io.stderr).toContain('checking the pack (layout, graphs, sha256 of every file)');
    expect(io.stdout.at(-1)).toMatch(/^installed hub-inpaint \(0\.\d MB, tester\/tiny-inpaint@[0-9a-f]{12}\) → .*user-packs\/hub-inpaint$/);

    const list = capture(env);
    expect(await main(['models'], list)).toBe(0);
    expect(list.stdout.join('\n')).toMatch(/hub-inpaint\s+inpaint\s+.*user: tester\/tiny-inpaint@[0-9a-f]{8}, licence mit\s+ok; takes a free-text prompt/);

    const out = path.join(tmp, 'out.png');
    const run = capture(env);
    const code = await main(['run', 'hub-inpaint', path.join(tmp, 'in.png'), '-o', out, '--mask', path.join(tmp, 'mask.png'), '--steps', '2', '--prompt', 'a red door'], run);
    expect(code, lines(run)).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([W, H]);
  });

  it('verify finds a damaged file and --repair fetches it again; remove deletes the pack', async () => {
    const ok = capture(env);
    expect(await main(['models', 'verify', 'hub-inpaint'], ok), lines(ok)).toBe(0);
    expect(ok.stdout).toEqual(['hub-inpaint: every file matches its manifest (size and sha256)']);
    const data = path.join(userPacks, 'hub-inpaint', 'unet', 'model.onnx_data');
    const bytes = await readFile(data);
    bytes[3] = (bytes[3] as number) ^ 0x40;
    await writeFile(data, bytes);
    const bad = capture(env);
    expect(await main(['models', 'verify', 'hub-inpaint'], bad)).toBe(1);
    expect(bad.stderr.join('\n')).toMatch(/problem: "unet\/model.onnx_data" failed its checksum[\s\S]*--repair/);
    const fix = capture(env);
    expect(await main(['models', 'verify', 'hub-inpaint', '--repair'], fix), lines(fix)).toBe(0);
    expect(fix.stdout[0]).toBe('repaired: unet/model.onnx_data (downloaded again from the commit it was pulled at)');

    const rm1 = capture(env);
    expect(await main(['models', 'remove', 'hub-inpaint'], rm1), lines(rm1)).toBe(0);
    expect((await readdir(userPacks)).filter((e) => !e.startsWith('.'))).toEqual([]);
    const again = capture(env);
    expect(await main(['models', 'remove', 'hub-inpaint'], again)).toBe(1);
    expect(again.stderr.join('\n')).toMatch(/no pack named "hub-inpaint"/);
  });

  it('a licence with conditions: refused without --accept-licence when nothing can ask, asked on a terminal', async () => {
    const io = capture(env);
    expect(await main(['models', 'pull', 'tester/rail'], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/licence: openrail;[\s\S]*needs your acceptance: its licence, openrail, sets conditions on use\. Read it, then run again with --accept-licence\. Nothing was downloaded\./);
    const questions: string[] = [];
    const no = { ...capture(env), confirm: async (q: string) => (questions.push(q), false) };
    expect(await main(['models', 'pull', 'tester/rail'], no)).toBe(1);
    expect(no.stderr.at(-1)).toBe('not accepted; nothing was downloaded');
    expect(hub.requests.some((r) => r.url.includes('/tester/rail/resolve/'))).toBe(false);
    const yes = { ...capture(env), confirm: async (q: string) => (questions.push(q), true) };
    expect(await main(['models', 'pull', 'tester/rail'], yes), lines(yes)).toBe(0);
    expect(questions[0]).toMatch(/openrail, sets conditions on use\. Do you accept the licence of tester\/rail\?/);
    const manifest = JSON.parse(await readFile(path.join(userPacks, 'rail', 'manifest.json'), 'utf8')) as { source: { licence: string; licenceAcceptedAt: string } };
    expect(manifest.source.licence).toBe('openrail');
    expect(manifest.source.licenceAcceptedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('a gated repo: HF_TOKEN is needed, and the token shows in no output line and no file', async () => {
    const io = capture(env);
    expect(await main(['models', 'pull', 'tester/gated', '--accept-licence'], io)).toBe(1);
    expect(io.stderr.at(-1)).toMatch(/gated repository: sign in at .*HF_TOKEN/);
    const withToken = capture({ ...env, HF_TOKEN: TOKEN });
    expect(await main(['models', 'pull', 'tester/gated', '--accept-licence'], withToken), lines(withToken)).toBe(0);
    expect(lines(withToken)).not.toContain(TOKEN);
    const verify = capture({ ...env, HF_TOKEN: TOKEN });
    expect(await main(['models', 'verify', 'gated'], verify)).toBe(0);
    const scan = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await scan(p);
        else expect((await readFile(p)).includes(TOKEN), p).toBe(false);
      }
    };
    await scan(userPacks);
  });

  it('on a terminal a bar is redrawn with bytes, speed and ETA; Ctrl-C cancels (exit 130) and the same command resumes', async () => {
    hub.switches = { bytesPerSecond: 20 * 1024 };
    let interrupt: (() => void) | null = null;
    const drawn: string[] = [];
    const io: CapturedIo = {
      ...capture(env),
      tty: true,
      write: (t: string) => {
        drawn.push(t);
        if (drawn.length === 5) interrupt?.();
      },
      onInterrupt: (fn: () => void) => {
        interrupt = fn;
        return () => {
          interrupt = null;
        };
      },
    };
    hub.resetCounters();
    expect(await main(['models', 'pull', 'tester/tiny-inpaint', '--name', 'resumed'], io)).toBe(130);
    expect(io.stderr.at(-1)).toMatch(/^codi: the pull was cancelled; what was downloaded is kept, so pulling again resumes$/);
    expect(drawn[0]).toMatch(/^\r\u001b\[2K\[[#.]{24}\]\s+\d+%\s+0\.\d MB \/ 0\.\d MB\s+0\.0 MB\/s\s+ETA (--:--|0:\d\d)$/);
    expect(drawn.at(-1)).toBe('\n');
    expect(interrupt).toBeNull();
    const first = hub.totalServed();
    expect(first).toBeGreaterThan(0);
    hub.switches = {};
    hub.resetCounters();
    const again = capture(env);
    expect(await main(['models', 'pull', 'tester/tiny-inpaint', '--name', 'resumed'], again), lines(again)).toBe(0);
    // The second run fetched only the rest: what the first wrote to disk is not fetched again (the
    // chunks in flight when Ctrl-C came, at most one 1 kB chunk per parallel download, are).
    const packBytes = [...(await tinyRepoFiles())].filter(([p]) => !p.endsWith('.safetensors')).reduce((a, [, b]) => a + b.length, 0);
    expect(hub.totalServed()).toBeGreaterThanOrEqual(packBytes - first);
    expect(hub.totalServed()).toBeLessThanOrEqual(packBytes - first + 4 * 1024);
    expect(hub.requests.some((r) => /^bytes=[1-9]\d*-$/.test(r.range ?? ''))).toBe(true);
  });

  it('usage errors exit 2; "codi models" alone still lists', async () => {
    const io = capture(env);
    expect(await main(['models', 'pull'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/needs a repository id[\s\S]*codi models pull <owner\/repo>/);
    const bad = capture(env);
    expect(await main(['models', 'pull', 'a/b', '--precision', 'fp8'], bad)).toBe(2);
    const help = capture(env);
    expect(await main(['models', 'help'], help)).toBe(0);
    expect(help.stdout.join('\n')).toMatch(/HF_TOKEN/);
  });
});

describe('codi models pull in its own process', () => {
  it('Ctrl-C (SIGINT) stops the pull with exit code 130 and keeps the partial download', async () => {
    const { spawn } = await import('node:child_process');
    hub.switches = { bytesPerSecond: 8 * 1024 };
    hub.resetCounters();
    const packs = path.join(tmp, 'sigint-packs');
    const child = spawn(process.execPath, [path.join(import.meta.dirname, '../../bin/codi.mjs'), 'models', 'pull', 'tester/tiny-inpaint', '--hub', hub.url], {
      env: { ...env, CODI_USER_PACKS: packs },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (hub.totalServed() < 4096 && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(await exit, stderr).toBe(130);
    expect(stderr).toMatch(/codi: the pull was cancelled; what was downloaded is kept, so pulling again resumes/);
    const staged: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(path.join(d, e.name));
        else staged.push(e.name);
      }
    };
    await walk(path.join(packs, '.hub-staging'));
    expect(staged.length).toBeGreaterThan(0);
    expect((await readdir(packs)).filter((e) => !e.startsWith('.'))).toEqual([]);
    hub.switches = {};
  }, 90_000);
});
