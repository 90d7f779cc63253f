/**
 * The Electron security checklist (docs/reliability.md §1), audited from the code the
 * app runs, without the Electron binary: the BrowserWindow webPreferences, the CSP of the
 * app:// protocol and of the web server, the navigation / window-open / webview guards, the
 * permission handlers, the app:// handler against path traversal, the preload's surface, and
 * the fuses in build/electron-builder.yml. Checks that need a live Electron (the renderer's
 * globals, `@electron/fuses read` on a packaged app) are reported as skipped with the reason.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { CHANNELS } from '../../electron/contract/channels.ts';
import type { WebContentsLike } from '../../electron/main/electron-types.ts';
import { appProtocolHandler, hardenSession, hardenWebContents } from '../../electron/main/hardening.ts';
import { APP_CSP, APP_URL, mainWindowOptions } from '../../electron/main/security.ts';
import { buildPreloadApi } from '../../electron/preload/api.ts';
import { contentSecurityPolicy } from '../../electron/web/server.ts';
import { REPO_ROOT } from '../../electron/broker/fork.ts';

const electronBinary = (() => {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
})();
const NO_ELECTRON = electronBinary ? 'Electron is installed' : 'the Electron binary is not installed here (optional dependency)';
/** The unpacked Linux build of electron-builder, if one was made (`release/linux-unpacked/<executable>`). */
const packagedApp = (() => {
  const dir = path.join(REPO_ROOT, 'release', 'linux-unpacked');
  try {
    const exe = readdirSync(dir).find((f) => /codi/i.test(f) && !f.includes('.'));
    return exe ? path.join(dir, exe) : null;
  } catch {
    return null;
  }
})();

let tmp: string;
let root: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-faults-electron-'));
  root = path.join(tmp, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(path.join(root, 'assets', 'app.js'), 'export {}');
  await writeFile(path.join(tmp, 'secret.txt'), 'TOP SECRET');
  await symlink(path.join(tmp, 'secret.txt'), path.join(root, 'assets', 'link.js'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function parseCsp(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((p) => p[0]).map((p) => [p[0]!, p.slice(1)]));
}

function checkCsp(csp: string): void {
  const d = parseCsp(csp);
  expect(d.get('default-src')).toEqual(["'self'"]);
  expect(d.get('script-src')).toEqual(["'self'"]); // no inline, no eval, no remote scripts
  expect(d.get('object-src')).toEqual(["'none'"]);
  expect(d.get('base-uri')).toEqual(["'none'"]);
  expect(d.get('frame-ancestors')).toEqual(["'none'"]);
  expect(d.get('form-action')).toEqual(["'none'"]);
  for (const [name, values] of d) {
    expect(values, name).not.toContain("'unsafe-eval'");
    expect(values.some((v) => v === '*' || v === 'http:' || v === 'https:'), name).toBe(false);
  }
}

/** The electronFuses block of electron-builder.yml as key → boolean (flat `key: true|false` lines). */
function readFuses(yml: string): Record<string, boolean> {
  const lines = yml.split('\n');
  const start = lines.findIndex((l) => /^electronFuses:\s*$/.test(l));
  if (start < 0) return {};
  const out: Record<string, boolean> = {};
  for (const l of lines.slice(start + 1)) {
    const m = /^\s+([A-Za-z]+):\s*(true|false)\s*$/.exec(l);
    if (!m) break;
    out[m[1]!] = m[2] === 'true';
  }
  return out;
}

describe('faults: Electron hardening audit', () => {
  it('electron-web-preferences: isolated, sandboxed, no Node, web security on, nothing experimental', () => {
    const w = mainWindowOptions('/app/preload.cjs').webPreferences;
    expect(w).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
    });
    expect(w).not.toHaveProperty('enableBlinkFeatures');
    expect(APP_URL.startsWith('app://codi/')).toBe(true);
  });

  it('electron-csp: the app:// protocol and the web server send strict CSPs', () => {
    checkCsp(APP_CSP);
    checkCsp(contentSecurityPolicy(4321));
    expect(parseCsp(contentSecurityPolicy(4321)).get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:4321', 'ws://localhost:4321']);
    expect(parseCsp(APP_CSP).get('connect-src')).toEqual(["'self'"]);
  });

  it('electron-navigation-window-open: every navigation, redirect, new window and webview is refused', () => {
    const handlers = new Map<string, (e: { preventDefault(): void }, url?: string) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | null = null;
    const contents = {
      on: (ev: string, l: (e: { preventDefault(): void }, url?: string) => void) => handlers.set(ev, l),
      setWindowOpenHandler: (h: (d: { url: string }) => { action: string }) => {
        openHandler = h;
      },
    } as unknown as WebContentsLike;
    hardenWebContents(contents);
    for (const ev of ['will-navigate', 'will-redirect']) {
      for (const url of ['https://evil.example/', 'app://codi/other.html', 'file:///etc/passwd', 'javascript:alert(1)', 'about:blank', APP_URL]) {
        let prevented = false;
        handlers.get(ev)!({ preventDefault: () => (prevented = true) }, url);
        expect(prevented, `${ev} ${url}`).toBe(true);
      }
    }
    let webview = false;
    handlers.get('will-attach-webview')!({ preventDefault: () => (webview = true) });
    expect(webview).toBe(true);
    for (const url of ['https://example.com/', 'app://codi/index.html', 'file:///']) expect(openHandler!({ url })).toEqual({ action: 'deny' });
  });

  it('electron-permissions: every permission request and check is denied', () => {
    let request: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | null = null;
    let check: (() => boolean) | null = null;
    hardenSession({
      setPermissionRequestHandler: (h) => {
        request = h;
      },
      setPermissionCheckHandler: (h) => {
        check = h;
      },
    });
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      let granted: boolean | null = null;
      request!(null, p, (g) => (granted = g));
      expect(granted, p).toBe(false);
    }
    expect(check!()).toBe(false);
  });

  it('electron-protocol-traversal: app:// serves the renderer only; traversal, symlinks, other hosts and methods are refused', async () => {
    const handler = appProtocolHandler(await import('node:fs/promises').then((f) => f.realpath(root)));
    const ok = await handler({ url: 'app://codi/index.html', method: 'GET' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toBe(APP_CSP);
    const attacks = [
      'app://codi/../secret.txt',
      'app://codi/%2e%2e/secret.txt',
      'app://codi/%252e%252e/secret.txt',
      'app://codi/assets/..%2f..%2fsecret.txt',
      'app://codi/assets/%2e%2e%5c%2e%2e%5csecret.txt',
      'app://codi/assets/link.js',
      `app://codi/${encodeURIComponent(path.join(tmp, 'secret.txt'))}`,
      'app://codi//etc/passwd',
      'app://codi/.hidden',
      'app://codi/%00index.html',
      'app://evil/index.html',
      'app://codi.evil/index.html',
      'not a url',
    ];
    for (const url of attacks) {
      const r = await handler({ url, method: 'GET' });
      const body = await r.text();
      expect(body, url).not.toContain('TOP SECRET');
      expect(r.status === 200 ? body : 'refused', url).toMatch(/refused|<title>app<\/title>/);
    }
    expect((await handler({ url: 'app://codi/index.html', method: 'POST' })).status).toBe(403);
  });

  it('electron-preload-surface: the preload exposes one method per channel and onEvent, nothing else', () => {
    const api = buildPreloadApi({ invoke: async () => null, on: () => {}, removeListener: () => {} });
    expect(Object.keys(api).sort()).toEqual([...Object.keys(CHANNELS), 'onEvent'].sort());
  });

  it('electron-fuses: electron-builder flips the fuses (RunAsNode, NODE_OPTIONS and --inspect off; asar integrity, asar-only and cookie encryption on)', async () => {
    const fuses = readFuses(await readFile(path.join(REPO_ROOT, 'build', 'electron-builder.yml'), 'utf8'));
    expect(fuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it.skipIf(!packagedApp)(`electron-fuses-packaged: the packaged app refuses ELECTRON_RUN_AS_NODE and NODE_OPTIONS${packagedApp ? '' : ` (skipped: ${NO_ELECTRON}, and no packaged app in release/linux-unpacked)`}`, () => {
    const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1', NODE_OPTIONS: '--require /nonexistent-preload.js' };
    const r = spawnSync(packagedApp!, ['-e', 'process.stdout.write("RAN-AS-NODE")', '--no-sandbox'], { env, timeout: 20_000, encoding: 'utf8' });
    expect(r.stdout ?? '').not.toContain('RAN-AS-NODE');
  });
});
