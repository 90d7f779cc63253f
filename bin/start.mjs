#!/usr/bin/env node
// `npm start`: the desktop app when Electron's binary is installed; otherwise the same editor
// and engine in web mode on http://127.0.0.1:PORT (CODI_PORT, default: a free port).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Path of the Electron binary, or the reason there is none. */
function findElectron() {
  let binary;
  try {
    // The electron package's main export is the path of the downloaded binary.
    binary = require('electron');
  } catch {
    return { reason: "Electron's binary is not installed (offline install)" };
  }
  if (typeof binary !== 'string' || !existsSync(binary)) return { reason: "Electron's binary is not installed (its download failed)" };
  return { binary };
}

function ensureRenderer() {
  if (existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) return;
  console.log('Building the editor (dist/renderer is missing)…');
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', 'renderer/vite.config.ts'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('Building the renderer failed; see the messages above.');
    process.exit(r.status ?? 1);
  }
}

const electron = findElectron();
ensureRenderer();
if (electron.binary) {
  const { buildElectron } = await import('./build-electron.mjs');
  await buildElectron();
  const child = spawn(electron.binary, [root], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const port = process.env.CODI_PORT ?? '0';
  console.log(`${electron.reason} — serving the same editor at http://127.0.0.1:${port === '0' ? 'PORT' : port} (the address with its access token follows)`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../electron/web/main.ts');
}
