/**
 * The pieces of the desktop shell's hardening that main.ts wires into Electron, as plain
 * functions over the Electron-shaped interfaces, so tests audit the very code the app runs
 * (the Electron binary is not needed): the app:// protocol handler, the per-webContents
 * navigation / window / webview guards, and the session's permission handlers.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MIME, resolveStatic } from '../web/static.ts';
import type { SessionLike, WebContentsLike } from './electron-types.ts';
import { APP_CSP, APP_HOST, isAllowedNavigation } from './security.ts';

/** `protocol.handle('app', …)`: GET app://codi/<file of the built renderer>, nothing else. */
export function appProtocolHandler(rendererRoot: string): (request: { url: string; method: string }) => Promise<Response> {
  return async (request) => {
    const headers = { 'Content-Security-Policy': APP_CSP, 'X-Content-Type-Options': 'nosniff' };
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return new Response('forbidden', { status: 403, headers });
    }
    if (url.host !== APP_HOST || request.method !== 'GET') return new Response('forbidden', { status: 403, headers });
    const file = await resolveStatic(rendererRoot, url.pathname + url.search);
    if (!file) return new Response('not found', { status: 404, headers });
    const body = await fs.readFile(file);
    return new Response(body, { headers: { ...headers, 'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream' } });
  };
}

/** Every webContents: no navigation away, no redirects, no new windows, no <webview>. */
export function hardenWebContents(contents: WebContentsLike): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Deny every permission request and check (camera, notifications, …). */
export function hardenSession(session: SessionLike): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
