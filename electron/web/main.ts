/**
 * `npm start` without Electron, or `tsx electron/web/main.ts`: start the engine and serve the
 * editor on http://127.0.0.1:PORT (PORT from CODI_PORT, default 0 = a free port). The printed
 * URL carries the session token; it is printed once and, from a terminal, opened in the browser
 * (CODI_OPEN_BROWSER=0 turns that off).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { engineConfigFromEnv } from '../broker/config.ts';
import { EngineHost, engineStatusLine } from '../broker/engine-host.ts';
import { forkEngine, REPO_ROOT } from '../broker/fork.ts';
import { openInBrowser } from './open-browser.ts';
import { startWebServer } from './server.ts';

async function main(): Promise<void> {
  const rendererDir = process.env.CODI_RENDERER_DIR || path.join(REPO_ROOT, 'dist', 'renderer');
  try {
    await fs.access(path.join(rendererDir, 'index.html'));
  } catch {
    console.error(`The editor is not built (${path.join(rendererDir, 'index.html')} is missing). Run: npm run build:renderer`);
    process.exit(1);
  }
  const port = Number(process.env.CODI_PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`CODI_PORT must be a port number, got "${process.env.CODI_PORT}"`);
    process.exit(2);
  }
  const pkg = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: string };
  const host = new EngineHost({ spawn: forkEngine(engineConfigFromEnv()) });
  // routine lifecycle (starting, ready) stays quiet; a crash or restart says why
  host.onEvent((e) => {
    const line = e.type === 'engine-status' ? engineStatusLine(e.status) : null;
    if (line) console.error(line);
  });
  void host.start();
  const server = await startWebServer({ host, rendererDir, port, version: pkg.version });
  // The only place the token is written out; nothing else here may log a request URL.
  console.log(`CoDi Studio is running at ${server.url}`);
  // Only for a person at a terminal: test harnesses and services read the URL from a pipe.
  const launcher = process.stdout.isTTY && process.env.CODI_OPEN_BROWSER !== '0' ? await openInBrowser(server.url).catch(() => null) : null;
  const shutdown = async () => {
    await launcher?.remove();
    await server.close();
    await host.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

void main();
