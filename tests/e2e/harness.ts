/**
 * Helpers for the browser end-to-end tests: Debian's Chromium driven by playwright-core, the
 * real web server (electron/web/server.ts) as a child process, a recorder for the binary
 * WebSocket frames the page receives, and step screenshots under test-results/e2e/.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { decodeFrame } from '../../electron/contract/wire.ts';
import type { ServerMessage } from '../../electron/contract/wire.ts';

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
      if (v) return v as NonNullable<T>;
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
 * recovery banner, which covers the toolbar). Tests that start fresh wait until the app has
 * looked for such a session (its `recovery-check` marker), then discard the offer if it made one.
 * Waiting for the marker rather than a fixed time: on a loaded machine the offer once came after
 * a 1.5 s window and then covered the toolbar.
 */
export async function dismissRecovery(page: Page, waitMs = 60_000): Promise<boolean> {
  await page.locator('[data-testid="recovery-check"][data-state="done"]').waitFor({ state: 'attached', timeout: waitMs });
  const banner = page.getByRole('alertdialog', { name: 'Recover unsaved session' });
  if ((await banner.count()) === 0) return false;
  await banner.getByRole('button', { name: 'Discard' }).click();
  await banner.waitFor({ state: 'detached' });
  return true;
}
