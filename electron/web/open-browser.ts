/**
 * Opening web mode's start URL in the user's browser without exposing its token. A command
 * line is readable by every account on the machine (ps, /proc/PID/cmdline), and a freshly
 * launched browser keeps its arguments for its lifetime, so the opener is given a launcher file
 * (readable only by the user) that forwards to the URL, never the URL itself.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Launcher {
  /** The launcher page; pass this path to the opener. */
  file: string;
  /** Remove the launcher (and its folder). */
  remove(): Promise<void>;
}

/** Write the launcher page into a fresh folder only the user can enter (mkdtemp makes it 0700). */
export async function writeLauncher(url: string, dir = os.tmpdir()): Promise<Launcher> {
  const folder = await mkdtemp(path.join(dir, 'codi-open-'));
  const file = path.join(folder, 'open.html');
  const href = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const page = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>CoDi Studio</title><a href="${href}">Open CoDi Studio</a>\n`;
  await writeFile(file, page, { mode: 0o600, flag: 'wx' });
  return { file, remove: () => rm(folder, { recursive: true, force: true }) };
}

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      // Not in this folder.
    }
  }
  return false;
}

/** The platform's "open with the default application" command for a file, or null if there is none. */
export function openerFor(file: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): { command: string; args: string[] } | null {
  if (platform === 'darwin') return { command: 'open', args: [file] };
  if (platform === 'win32') return { command: 'explorer.exe', args: [file] };
  // Elsewhere xdg-open, and only with a display to show a browser on (not over ssh or in CI).
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return onPath('xdg-open', env) ? { command: 'xdg-open', args: [file] } : null;
}

/**
 * Open `url` in the default browser through a launcher file; false when there is no opener.
 * The launcher is removed after `keepMs` (the browser has read it by then) or by the returned
 * launcher's remove().
 */
export async function openInBrowser(url: string, keepMs = 60_000): Promise<Launcher | null> {
  const probe = openerFor('');
  if (!probe) return null;
  const launcher = await writeLauncher(url);
  const opener = openerFor(launcher.file)!;
  const child = spawn(opener.command, opener.args, { stdio: 'ignore', detached: true });
  // A failing opener is not an error of ours: the URL was printed for the user to open.
  child.on('error', () => void launcher.remove());
  child.unref();
  setTimeout(() => void launcher.remove(), keepMs).unref();
  return launcher;
}
