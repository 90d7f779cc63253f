/**
 * Web mode's session token in real Chromium against the real web server (electron/web/main.ts):
 * the printed start URL and the browser launcher both end on a token-free address with the
 * socket open, the cookie is out of the page's reach, and a browser without the cookie is
 * refused. A minimal page stands in for the renderer: it only opens the socket.
 */
import { it, expect } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { writeLauncher } from '../../electron/web/open-browser.ts';
import { describeE2E, until, useStudio } from './harness.ts';

/** The stand-in page: it only opens the socket and says in its title whether it got in. */
async function writeSocketPage(rendererDir: string): Promise<void> {
  await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>page</title><script type="module" src="/assets/app.js"></script>');
  await writeFile(
    path.join(rendererDir, 'assets', 'app.js'),
    "const ws = new WebSocket(`ws://${location.host}/ws`); ws.onopen = () => (document.title = 'socket open'); ws.onerror = () => (document.title = 'socket refused');",
  );
}

describeE2E('web mode session token in the browser', () => {
  const studio = useStudio({ prefix: 'codi-e2e-token-', packs: 'empty', renderer: writeSocketPage });
  const origin = () => new URL(studio.server.url).origin;
  const title = (page: Page) => until('the page to open its socket or be refused', async () => ((await page.title()) === 'page' ? null : page.title()), 30_000);

  it('the start URL trades its token for an HttpOnly cookie and leaves it out of the address', async () => {
    await studio.browser.clearCookies();
    const { page } = await studio.openApp('?autosaveMs=1000');
    expect(page.url()).toBe(`${origin()}/?autosaveMs=1000`);
    expect(await title(page)).toBe('socket open');
    expect(await page.evaluate('document.cookie')).toBe('');
    const [cookie] = await studio.browser.cookies(origin());
    expect({ httpOnly: cookie?.httpOnly, sameSite: cookie?.sameSite }).toEqual({ httpOnly: true, sameSite: 'Strict' });
    await page.close();
  });

  it('the browser launcher (a local file forwarding to the start URL) gets in too', async () => {
    // Navigations from a file are cross-site: Chromium withholds a Strict cookie across a redirect.
    await studio.browser.clearCookies();
    const launcher = await writeLauncher(studio.server.url, studio.work);
    const page = await studio.browser.newPage();
    await page.goto(`file://${launcher.file}`);
    await until('the launcher to reach the editor', () => page.url() === `${origin()}/`, 30_000);
    expect(await title(page)).toBe('socket open');
    await page.close();
    await launcher.remove();
  });

  it('a browser without the cookie is refused the page and the socket', async () => {
    await studio.browser.clearCookies();
    const page = await studio.browser.newPage();
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
