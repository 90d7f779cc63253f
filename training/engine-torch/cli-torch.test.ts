/**
 * `codi train --engine torch` end to end: it trains a backbone and a restore adapter, the pack
 * it exports runs in the engine through `codi run`; a bad data pair and a bad flag are refused
 * with the TF.js engine's messages and write nothing; a Python without torch falls back to
 * TF.js in one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { parseManifest } from '../../core/packs/manifest.ts';
import { runTrainCommand } from '../cli/train.ts';
import { writeSyntheticRestoreTask } from '../data/synthetic-task.ts';
import { parityPython } from './parity-fixtures.ts';

const python = parityPython();
let root = '';

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'codi-torch-cli-'));
  await writeSyntheticRestoreTask({ dir: path.join(root, 'data'), size: 16, train: 8, val: 2, seed: 3 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function capture() {
  const lines: string[] = [];
  return { lines, io: { log: (l: string) => lines.push(l), error: (l: string) => lines.push(`ERR ${l}`) } };
}

describe.skipIf(python === null)('codi train --engine torch', () => {
  it('trains a backbone and a PE-CoDi restore pack that codi run uses', async () => {
    const packs = path.join(root, 'packs');
    const common = ['--data', path.join(root, 'data'), '--net', 'tiny', '--batch', '4', '--steps', '3', '--engine', 'torch'];
    const bb = capture();
    expect(await runTrainCommand(['--method', 'pretrain', '--out', path.join(packs, 'torch-bb'), ...common], bb.io), bb.lines.join('\n')).toBe(0);
    expect(bb.lines.some((l) => /^engine: PyTorch /.test(l))).toBe(true);
    expect(bb.lines.some((l) => /^step 3\/3 +loss=/.test(l))).toBe(true);
    const ad = capture();
    const adapterArgs = ['--task', 'restore', '--method', 'pe-codi', '--backbone', path.join(packs, 'torch-bb'), '--out', path.join(packs, 'torch-restore'), '--mu-lr-scale', '50', '--eval', ...common];
    expect(await runTrainCommand(adapterArgs, ad.io), ad.lines.join('\n')).toBe(0);
    const m = parseManifest(await readFile(path.join(packs, 'torch-restore', 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ task: 'restore', method: 'pe-codi', conditionChannels: 48 });
    expect(m.training!.metrics!.psnr_codi_4).toBeGreaterThan(0);

    // --resume continues the torch run folder
    const re = capture();
    expect(await runTrainCommand([...adapterArgs.filter((a) => a !== '--eval'), '--resume', '--steps', '4'], re.io), re.lines.join('\n')).toBe(0);
    expect(re.lines.some((l) => /resumed .* at step 3/.test(l))).toBe(true);

    await sharp({ create: { width: 12, height: 10, channels: 3, background: { r: 90, g: 60, b: 30 } } }).png().toFile(path.join(root, 'in.png'));
    // the real `codi run` (bin/codi.mjs → engine process) with only these packs installed
    const env = { ...process.env, CODI_PACKS: packs, CODI_USER_PACKS: path.join(root, 'none'), CODI_EP: 'cpu', CODI_THREADS: '1' };
    const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'codi.mjs');
    await promisify(execFile)(process.execPath, [bin, 'run', 'torch-restore', path.join(root, 'in.png'), '-o', path.join(root, 'out.png')], { env });
    expect((await sharp(path.join(root, 'out.png')).metadata()).width).toBe(24);
  });

  it('refuses a bad data pair and a bad flag exactly as the TF.js engine does, writing no pack', async () => {
    const bad = path.join(root, 'bad-data');
    await writeSyntheticRestoreTask({ dir: bad, size: 16, train: 8, val: 2, seed: 4 });
    const items = (await readFile(path.join(bad, 'items.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { target: string });
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toFile(path.join(bad, items[0]!.target));
    const messages: string[] = [];
    for (const engine of ['tfjs', 'torch']) {
      for (const extra of [['--data', bad], ['--data', path.join(root, 'data'), '--crop', 'big']]) {
        const c = capture();
        const outDir = path.join(root, `refused-${engine}`);
        expect(await runTrainCommand(['--method', 'pretrain', '--out', outDir, '--net', 'tiny', '--batch', '4', '--steps', '1', '--engine', engine, ...extra], c.io)).toBe(1);
        messages.push(c.lines.filter((l) => l.startsWith('ERR')).join('\n'));
        await expect(stat(outDir)).rejects.toThrow();
      }
    }
    expect(messages[0]).toMatch(/1 bad item/);
    expect(messages[1]).toMatch(/--crop must be an integer/);
    expect(messages[2]).toBe(messages[0]);
    expect(messages[3]).toBe(messages[1]);
    expect(messages.join('\n')).not.toMatch(/Traceback|File ".*\.py"/);
  });

  it('--engine auto without a usable torch says so in one line and trains with TF.js', async () => {
    const saved = process.env.CODI_PYTHON;
    process.env.CODI_PYTHON = path.join(root, 'no-such-python');
    try {
      const c = capture();
      expect(await runTrainCommand(['--method', 'pretrain', '--out', path.join(root, 'auto-bb'), '--data', path.join(root, 'data'), '--net', 'tiny', '--batch', '4', '--steps', '1', '--engine', 'auto'], c.io)).toBe(0);
      const notes = c.lines.filter((l) => l.startsWith('engine:'));
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/^engine: TF\.js \(no Python with torch ≥ 1\.13: CODI_PYTHON=.*not found/);
    } finally {
      if (saved === undefined) delete process.env.CODI_PYTHON;
      else process.env.CODI_PYTHON = saved;
    }
  });
});
