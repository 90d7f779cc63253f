/** `codi models` and `codi run` against exported packs, through the real engine process. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { main } from '../../electron/cli/codi.ts';
import type { CliIo } from '../../electron/cli/codi.ts';
import { makeTestPacks } from './fixtures/packs.ts';

let tmp: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-cli-'));
  const packs = await makeTestPacks(path.join(tmp, 'packs'));
  env = { ...process.env, CODI_PACKS: packs.dir, CODI_USER_PACKS: path.join(tmp, 'none'), CODI_EP: 'cpu', CODI_THREADS: '1' };
  await sharp({ create: { width: 30, height: 22, channels: 3, background: { r: 20, g: 140, b: 90 } } }).png().toFile(path.join(tmp, 'in.png'));
  const mask = Buffer.alloc(30 * 22);
  for (let y = 5; y < 15; y++) for (let x = 8; x < 20; x++) mask[y * 30 + x] = 255;
  await sharp(mask, { raw: { width: 30, height: 22, channels: 1 } }).png().toFile(path.join(tmp, 'mask.png'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { env, tty: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l), stdout, stderr };
}

describe('codi CLI', () => {
  it('a run with the default providers prints no errors or warnings (absent GPU providers are not probed)', async () => {
    // a real process: ONNX Runtime's and Dawn's native loggers write to fd 2, past any CliIo
    const { CODI_EP: _ep, ...rest } = env;
    const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'codi.mjs');
    const { stderr } = await promisify(execFile)(process.execPath, [bin, 'run', 'restore', path.join(tmp, 'in.png'), '-o', path.join(tmp, 'calm.png')], { env: rest });
    expect(stderr.split('\n').filter((l) => /\[E:|error|warn|fail|couldn't/i.test(l))).toEqual([]);
    const io = capture();
    io.env = rest;
    expect(await main(['models'], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^execution provider: \w+$/);
    const verbose = capture();
    verbose.env = rest;
    expect(await main(['models', '--verbose'], verbose)).toBe(0);
    expect(verbose.stdout[0]).toMatch(/^execution provider: \w+ \(.+\)$/);
  });

  it('codi models lists packs, tasks and the execution provider', async () => {
    const io = capture();
    expect(await main(['models'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/execution provider: cpu/);
    expect(text).toMatch(/test-restore-x2\s+restore ×2/);
    expect(text).toMatch(/test-inpaint\s+inpaint .*needs test-backbone/);
  });

  it('codi run restore writes the output with progress, and refuses to overwrite', async () => {
    const out = path.join(tmp, 'out.png');
    const io = capture();
    expect(await main(['run', 'restore', path.join(tmp, 'in.png'), '-o', out, '--steps', '1', '--seed', '4'], io)).toBe(0);
    expect(io.stderr.some((l) => /denoising .*step 1\/1/.test(l))).toBe(true);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([60, 44]);
    const before = await readFile(out);
    const again = capture();
    expect(await main(['run', 'restore', path.join(tmp, 'in.png'), '-o', out], again)).toBe(1);
    expect(again.stderr.join('\n')).toMatch(/already exists; pass --overwrite/);
    expect((await readFile(out)).equals(before)).toBe(true);
  });

  it('codi run inpaint with --mask, by pack name', async () => {
    const out = path.join(tmp, 'filled.webp');
    const io = capture();
    expect(await main(['run', 'test-inpaint', path.join(tmp, 'in.png'), '-o', out, '--mask', path.join(tmp, 'mask.png')], io)).toBe(0);
    expect((await sharp(out).metadata()).format).toBe('webp');
  });

  it('never overwrites the input and explains bad input', async () => {
    const input = path.join(tmp, 'in.png');
    const original = await readFile(input);
    const cases: [string[], number, RegExp][] = [
      [['run', 'restore', input, '-o', input, '--overwrite'], 2, /never overwritten/],
      [['run', 'sharpen', input, '-o', path.join(tmp, 'x.png')], 2, /unknown tool "sharpen"; available: .*restore/],
      [['run', 'restore', path.join(tmp, 'missing.png'), '-o', path.join(tmp, 'x.png')], 1, /does not exist/],
      [['run', 'restore', input, '-o', path.join(tmp, 'x.bmp')], 2, /output format/],
      [['run', 'restore', input], 2, /needs -o/],
      [['run', 'restore', input, '-o', path.join(tmp, 'x.png'), '--steps', 'many'], 2, /--steps must be an integer/],
      // the pack's limit, the one "codi models" shows (max 8), not a CLI-wide 1 to 50
      [['run', 'restore', input, '-o', path.join(tmp, 'x.png'), '--steps', '9'], 2, /--steps: test-restore-x2 runs 1 to 8 steps \(its manifest's limit\), not 9/],
      [['run', 'test-inpaint', input, '-o', path.join(tmp, 'x.png'), '--steps', '0'], 2, /test-inpaint runs 1 to 8 steps/],
      // the command is checked before the files: a mistyped tool is the answer even when the output exists
      [['run', 'upscale', input, '-o', path.join(tmp, 'exists.png')], 2, /unknown tool "upscale"/],
      [['frobnicate'], 2, /unknown command/],
    ];
    await writeFile(path.join(tmp, 'exists.png'), 'already here');
    for (const [argv, code, msg] of cases) {
      const io = capture();
      expect(await main(argv, io), argv.join(' ')).toBe(code);
      expect(io.stderr.join('\n'), argv.join(' ')).toMatch(msg);
    }
    await writeFile(path.join(tmp, 'not-an-image.png'), 'hello');
    const io = capture();
    expect(await main(['run', 'restore', path.join(tmp, 'not-an-image.png'), '-o', path.join(tmp, 'y.png')], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/cannot open/);
    await expect(stat(path.join(tmp, 'y.png'))).rejects.toThrow();
    expect((await readFile(input)).equals(original)).toBe(true);
  });
});
