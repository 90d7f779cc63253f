import { describe, it, expect } from 'vitest';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openerFor, writeLauncher } from './open-browser.ts';

describe('opening the start URL in a browser', () => {
  it('puts the URL in a launcher only the user can read, never on a command line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'codi-open-test-'));
    try {
      const url = 'http://127.0.0.1:4321/token/SECRET_token-value/?a=1&b=2';
      const launcher = await writeLauncher(url, dir);
      expect((await stat(launcher.file)).mode & 0o777).toBe(0o600);
      expect((await stat(path.dirname(launcher.file))).mode & 0o777).toBe(0o700);
      expect(await readFile(launcher.file, 'utf8')).toContain('content="0;url=http://127.0.0.1:4321/token/SECRET_token-value/?a=1&amp;b=2"');

      const bin = path.join(dir, 'bin');
      await mkdir(bin);
      await writeFile(path.join(bin, 'xdg-open'), '#!/bin/sh\n');
      await chmod(path.join(bin, 'xdg-open'), 0o755);
      for (const opener of [
        openerFor(launcher.file, 'linux', { PATH: bin, DISPLAY: ':0' }),
        openerFor(launcher.file, 'darwin', {}),
        openerFor(launcher.file, 'win32', {}),
      ]) {
        expect(opener?.args).toEqual([launcher.file]);
        expect(JSON.stringify(opener)).not.toContain('SECRET');
      }
      await launcher.remove();
      await expect(stat(path.dirname(launcher.file))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens nothing where there is no display or no opener', () => {
    expect(openerFor('/f.html', 'linux', { PATH: '/nonexistent' })).toBeNull();
    expect(openerFor('/f.html', 'linux', { PATH: '/nonexistent', DISPLAY: ':0' })).toBeNull();
  });
});
