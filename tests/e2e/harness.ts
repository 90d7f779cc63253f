/**
 * Helpers for the browser end-to-end tests: Debian's Chromium driven by playwright-core, the
 * real web server (electron/web/server.ts) as a child process, a recorder for the binary
 * WebSocket frames the page receives, and step screenshots under test-results/e2e/.
 *
 * A suite's set-up is one call: {@link useStudio} (a workspace with packs and a freshly built
 * renderer, the server on it, a fresh Chromium, torn down after the suite), or
 * {@link makeWorkspace} + {@link startStudio} for tests that start and kill their own.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe } from 'vitest';
import { decodeFrame } from '../../electron/contract/wire.ts';
import type { ServerMessage } from '../../electron/contract/wire.ts';
import { makeTestPacks } from '../engine/fixtures/packs.ts';
import type { TestPacks } from '../engine/fixtures/packs.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOTS = path.join(REPO, 'test-results', 'e2e');

/** Debian's chromium (Playwright's own download does not work offline). */
export function chromiumPath(): string | null {
  for (const p of [process.env.CODI_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[]) {
    if (existsSync(p)) return p;
  }
  return null;
}

/** Chromium with a fresh profile (a persistent context is how Playwright takes --user-data-dir). */
export async function launchBrowser(): Promise<{ context: BrowserContext; userDataDir: string }> {
  const exe = chromiumPath();
  if (!exe) throw new Error('Chromium not found: apt-get install -y chromium (or set CODI_CHROMIUM)');
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'codi-e2e-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: exe,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return { context, userDataDir };
}

export interface WebServer {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/**
 * Start the web server (electron/web/main.ts → server.ts) on port 0 and wait for the URL it
 * prints. `env` carries its settings (CODI_PACKS, CODI_RENDERER_DIR, …). `url` is that start
 * URL with its session token: a page that loads it (or `${url}?query`) gets the session cookie.
 */
export async function startWebServer(env: Record<string, string>, timeoutMs = 120_000): Promise<WebServer> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, path.join(REPO, 'electron/web/main.ts')], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CODI_PORT: '0', ...env },
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server printed no URL within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (b: Buffer) => {
      out += b.toString();
      // Up to the end of the line, so a URL split across two reads is not taken half-way.
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\S*)\r?\n/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before printing its URL:\n${out}`));
    });
  });
  // onData goes on collecting stdout (a second listener here would record every later line twice).
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** Every server→page WebSocket message, decoded with the contract's codec. */
export function recordFrames(page: Page): ServerMessage[] {
  const seen: ServerMessage[] = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => {
      if (typeof f.payload === 'string') return;
      try {
        seen.push(decodeFrame(new Uint8Array(f.payload)) as ServerMessage);
      } catch {
        // Not a contract frame; ignore.
      }
    });
  });
  return seen;
}

export async function shot(page: Page, name: string): Promise<string> {
  await mkdir(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Poll `fn` until it returns a truthy value (playwright-core has no auto-retrying expect). */
export async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 60_000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Build the renderer into `outDir` (the test checks the current sources, not a stale dist). */
export async function buildRenderer(outDir: string): Promise<void> {
  const vite = path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js');
  const child = spawn(process.execPath, [vite, 'build', '--config', 'renderer/vite.config.ts', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`vite build failed (${code}):\n${out}`);
}

/** PIDs of the live child processes of `pid` whose command line contains `match` (Linux /proc). */
export async function childPids(pid: number, match: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the ")" that closes the command name: state, ppid, …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== pid || fields[0] === 'Z') continue;
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (cmd.includes(match)) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/**
 * A page opened after another one closed may offer the previous session back (autosave's
 * recovery bar, in the page flow above the toolbar). Tests that start fresh wait until the app
 * has looked for such a session (its `recovery-check` marker), then discard the offer if it made
 * one, so it cannot shift the toolbar under a click. Waiting for the marker rather than a fixed
 * time: on a loaded machine the offer once came after a 1.5 s window, mid-test.
 */
export async function dismissRecovery(page: Page, waitMs = 60_000): Promise<boolean> {
  await page.locator('[data-testid="recovery-check"][data-state="done"]').waitFor({ state: 'attached', timeout: waitMs });
  const banner = page.getByRole('alertdialog', { name: 'Recover unsaved session' });
  if ((await banner.count()) === 0) return false;
  await banner.getByRole('button', { name: 'Discard' }).click();
  await banner.waitFor({ state: 'detached' });
  return true;
}

/** `describe` for the browser suites: without Chromium a skip, unless CODI_E2E_REQUIRE=1 (CI) makes it a failure. */
export const describeE2E = chromiumPath() !== null || process.env.CODI_E2E_REQUIRE === '1' ? describe : describe.skip;

/** Which packs the server scans: the exported test packs, the bundled native-models, or an empty folder. */
export type PackSource = 'test' | 'bundled' | 'empty';

export interface Workspace {
  /** A private temp folder: fixtures, user packs and user data live here. */
  readonly work: string;
  readonly rendererDir: string;
  readonly packsDir: string;
  /** The test packs (packs: 'test' only). */
  readonly packs: TestPacks | null;
  remove(): Promise<void>;
}

export interface WorkspaceOptions {
  /** Temp folder name prefix, e.g. 'codi-e2e-tools-'. */
  readonly prefix: string;
  readonly packs?: PackSource;
  /** Write the page the server serves instead of building the renderer (given the renderer folder). */
  readonly renderer?: (dir: string) => Promise<void>;
}

/** A temp workspace with its packs and the renderer built from the current sources. */
export async function makeWorkspace(opts: WorkspaceOptions): Promise<Workspace> {
  const work = await mkdtemp(path.join(tmpdir(), opts.prefix));
  const source = opts.packs ?? 'test';
  let packs: TestPacks | null = null;
  let packsDir = path.join(work, 'packs');
  if (source === 'test') packs = await makeTestPacks(packsDir);
  else if (source === 'bundled') packsDir = path.join(REPO, 'native-models');
  else await mkdir(packsDir);
  const rendererDir = path.join(work, 'renderer');
  if (opts.renderer) await opts.renderer(rendererDir);
  else await buildRenderer(rendererDir);
  return { work, rendererDir, packsDir, packs, remove: () => rm(work, { recursive: true, force: true }) };
}

/** The server settings every browser test uses (the workspace's packs and renderer, private user folders, one CPU thread), plus `extra`. */
export function studioEnv(ws: Workspace, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CODI_PACKS: ws.packsDir,
    CODI_USER_PACKS: path.join(ws.work, 'user-packs'),
    CODI_USER_DATA: path.join(ws.work, 'user-data'),
    CODI_RENDERER_DIR: ws.rendererDir,
    CODI_THREADS: '1',
    CODI_EP: 'cpu',
    ...extra,
  };
}

/** A page on the app with its page errors and received frames recorded from the first byte. */
export interface AppPage {
  readonly page: Page;
  readonly errors: string[];
  readonly frames: ServerMessage[];
}

export interface Studio {
  readonly server: WebServer;
  readonly browser: BrowserContext;
  /** A new tab on the app's start URL (`query` appended, e.g. '?autosaveMs=1000'); resolves once loaded. */
  openApp(query?: string, viewport?: { width: number; height: number }): Promise<AppPage>;
  /** Close the browser, stop the server, remove the browser profile; each step bounded (a killed browser may never answer). */
  stop(): Promise<void>;
}

/** Start the web server on a workspace and a fresh Chromium. */
export async function startStudio(ws: Workspace, extraEnv: Record<string, string> = {}): Promise<Studio> {
  const server = await startWebServer(studioEnv(ws, extraEnv));
  let launched: { context: BrowserContext; userDataDir: string };
  try {
    launched = await launchBrowser();
  } catch (err) {
    await server.stop();
    throw err;
  }
  const { context: browser, userDataDir } = launched;
  const bounded = (step: () => Promise<unknown>) => Promise.race([step().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
  return {
    server,
    browser,
    async openApp(query = '', viewport) {
      const page = await browser.newPage();
      if (viewport) await page.setViewportSize(viewport);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const frames = recordFrames(page);
      await page.goto(`${server.url}${query}`);
      return { page, errors, frames };
    },
    async stop() {
      await bounded(() => browser.close());
      await bounded(() => server.stop());
      await bounded(() => rm(userDataDir, { recursive: true, force: true }));
    },
  };
}

export interface StudioSuiteOptions extends WorkspaceOptions {
  /** Extra server settings, given the workspace folder. */
  readonly env?: (work: string) => Record<string, string>;
  /** Fixtures written before the server starts. */
  readonly prepare?: (ws: Workspace) => Promise<void>;
  /** Run once the browser is up (permissions, …). */
  readonly ready?: (studio: Studio) => Promise<void>;
}

export type StudioSuite = Workspace & Studio;

/**
 * One workspace, server and browser for the enclosing describe block: started in its beforeAll,
 * stopped and removed in its afterAll. The returned object is usable inside the tests.
 */
export function useStudio(opts: StudioSuiteOptions, timeoutMs = 300_000): StudioSuite {
  let ws: Workspace | undefined;
  let studio: Studio | undefined;
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the studio is used before its beforeAll ran');
    return v;
  };
  beforeAll(async () => {
    ws = await makeWorkspace(opts);
    await opts.prepare?.(ws);
    studio = await startStudio(ws, opts.env?.(ws.work));
    await opts.ready?.(studio);
  }, timeoutMs);
  afterAll(async () => {
    await studio?.stop();
    await ws?.remove();
  });
  return {
    get work() { return need(ws).work; },
    get rendererDir() { return need(ws).rendererDir; },
    get packsDir() { return need(ws).packsDir; },
    get packs() { return need(ws).packs; },
    remove: () => need(ws).remove(),
    get server() { return need(studio).server; },
    get browser() { return need(studio).browser; },
    openApp: (query, viewport) => need(studio).openApp(query, viewport),
    stop: () => need(studio).stop(),
  };
}

/** The engine reports ready in the status bar. */
export async function engineReady(page: Page, timeoutMs = 120_000): Promise<void> {
  await until('engine ready', async () => (await page.getByRole('status', { name: 'Engine status' }).getAttribute('data-state')) === 'ready', timeoutMs);
}

/** Engine ready and any recovery offer from an earlier page discarded: a fresh start. */
export async function appReady(page: Page, timeoutMs = 120_000): Promise<void> {
  await engineReady(page, timeoutMs);
  await dismissRecovery(page);
}

/** Until the canvas shows the file named `name`. */
export async function showing(page: Page, name: string, timeoutMs = 60_000): Promise<void> {
  await until(`canvas shows ${name}`, async () => ((await page.getByTestId('image-canvas').getAttribute('aria-label')) ?? '').includes(name), timeoutMs);
}

/** Open a file through the Open path… dialog and wait until the canvas shows it. */
export async function openByPath(page: Page, file: string, timeoutMs = 60_000): Promise<void> {
  await page.getByRole('button', { name: 'Open path…' }).click();
  await page.getByLabel('Image path').fill(file);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await showing(page, path.basename(file), timeoutMs);
}

/** The app's notice line ('' when none). */
export async function notice(page: Page): Promise<string> {
  return (await page.getByTestId('notice').textContent().catch(() => '')) ?? '';
}
