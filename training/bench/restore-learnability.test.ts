/** `npm run bench:restore-probe` on a clone without its data set says how to build it, not a raw ENOENT. */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('bench:restore-probe without its data set', () => {
  it('names the command that builds it and exits 1', async () => {
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    const script = path.join(import.meta.dirname, 'restore-learnability.ts');
    const err = await promisify(execFile)(process.execPath, [tsx, script, '--data', path.join(import.meta.dirname, 'no-such-data-set')]).catch((e: { code: number; stderr: string }) => e);
    expect('code' in err && err.code).toBe(1);
    expect(err.stderr).toMatch(/needs the restore data set .*no-such-data-set.*\n\s+npx codi build-dataset --task restore --scale 4 .* --out .*no-such-data-set/);
    expect(err.stderr).not.toMatch(/ENOENT/);
  });
});
