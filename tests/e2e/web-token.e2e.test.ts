/**
 * Web mode's session token in real Chromium against the real web server (electron/web/main.ts):
 * the printed start URL and the browser launcher both end on a token-free address with the
 * socket open, the cookie is out of the page's reach, and a browser without the cookie is
 * refused. A minimal page stands in for the renderer: it only opens the socket.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { writeLauncher } from '../../electron/web/open-browser.ts';
import { chromiumPath, launchBrowser, startWebServer, until } from './harness.ts';
import type { WebServer } from './harness.ts';

const run = chromiumPath() !== null || process.env.CODI_E2E_REQUIRE === '1' ? describe : describe.skip;

let work: string;
let server: WebServer;
let browser: BrowserContext;
let userDataDir: string;

run('web mode session token in the browser', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'codi-e2e-token-'));
    const rendererDir = path.join(work, 'renderer');
    await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
    await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>page</title><script type="module" src="/assets/app.js"></script>');
    await writeFile(
      path.join(rendererDir, 'assets', 'app.js'),
      "const ws = new WebSocket(`ws://${location.host}/ws`); ws.onopen = () => (document.title = 'socket open'); ws.onerror = () => (document.title = 'socket refused');",
    );
    await mkdir(path.join(work, 'packs'));
    server = await startWebServer({
      CODI_PACKS: path.join(work, 'packs'),
      CODI_USER_PACKS: path.join(work, 'user-packs'),
      CODI_USER_DATA: path.join(work, 'user-data'),
      CODI_RENDERER_DIR: rendererDir,
      CODI_THREADS: '1',
      CODI_EP: 'cpu',
    });
    ({ context: browser, userDataDir } = await launchBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  const origin = () => new URL(server.url).origin;
  const title = (page: Page) => until('the page to open its socket or be refused', async () => ((await page.title()) === 'page' ? null : page.title()), 30_000);

  it('the start URL trades its token for an HttpOnly cookie and leaves it out of the address', async () => {
    await browser.clearCookies();
    const page = await browser.newPage();
    await page.goto(`${server.url}?autosaveMs=1000`);
    expect(page.url()).toBe(`${origin()}/?autosaveMs=1000`);
    expect(await title(page)).toBe('socket open');
    expect(await page.evaluate('document.cookie')).toBe('');
    const [cookie] = await browser.cookies(origin());
    expect({ httpOnly: cookie?.httpOnly, sameSite: cookie?.sameSite }).toEqual({ httpOnly: true, sameSite: 'Strict' });
    await page.close();
  });

  it('the browser launcher (a local file forwarding to the start URL) gets in too', async () => {
    // Navigations from a file are cross-site: Chromium withholds a Strict cookie across a redirect.
    await browser.clearCookies();
    const launcher = await writeLauncher(server.url, work);
    const page = await browser.newPage();
    await page.goto(`file://${launcher.file}`);
    await until('the launcher to reach the editor', () => page.url() === `${origin()}/`, 30_000);
    expect(await title(page)).toBe('socket open');
    await page.close();
    await launcher.remove();
  });

  it('a browser without the cookie is refused the page and the socket', async () => {
    await browser.clearCookies();
    const page = await browser.newPage();
    const res = await page.goto(`${origin()}/`);
    expect(res?.status()).toBe(401);
    expect(await page.content()).not.toContain('<script');
    // Same origin, so the Origin check passes: only the missing cookie stops the socket.
    // (A string: the test is type-checked without the DOM library.)
    const socket = await page.evaluate(`new Promise((resolve) => {
      const ws = new WebSocket('ws://' + location.host + '/ws');
      ws.onopen = () => resolve('open');
      ws.onerror = () => resolve('refused');
    })`);
    expect(socket).toBe('refused');
    await page.close();
  });
});
