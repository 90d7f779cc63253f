/**
 * Window hardening and IPC sender checks for the desktop shell, as plain functions so they
 * are tested without Electron (docs/reliability.md §1).
 */
import type { BrowserWindowOptionsLike } from './electron-types.ts';

/** The renderer is served from app://codi/ (a custom protocol, never file://). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'codi';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** CSP sent with every app:// response. */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** BrowserWindow options: isolated, sandboxed, no Node, web security on. */
export function mainWindowOptions(preloadPath: string): BrowserWindowOptionsLike {
  return {
    width: 1400,
    height: 900,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'CoDi Studio',
    backgroundColor: '#1e1e1e',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}

/**
 * Only the app's own top-level page may call privileged channels: URL parsed (never
 * startsWith), scheme and host exact, main frame only. Empty or about:blank URLs are refused.
 */
export function isTrustedSender(frame: { url: string; parent: unknown } | null | undefined): boolean {
  if (!frame || frame.parent !== null) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
}

/** In-app navigation is never allowed (the app is a single page). */
export function isAllowedNavigation(_url: string): boolean {
  return false;
}
