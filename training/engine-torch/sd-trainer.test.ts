/**
 * `codi train --backbone <diffusers folder> --method pe-codi` end to end on a small SD-config
 * backbone (training/torch/tests/sd_fixtures.py): it trains, checkpoints, exports the two ONNX
 * graphs, and onnxruntime running adapter → backbone reproduces the PyTorch adapted model (and
 * zeros with μ = 0 the plain backbone) within 1e-4. Refusals: a missing torch, a wrong method,
 * flags of the other trainer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { runTrainCommand } from '../cli/train.ts';
import { parityPython } from './parity-fixtures.ts';
import { isDiffusersFolder, sdTrainArgs } from './sd-trainer.ts';
import { TORCH_PACKAGE_DIR } from './worker.ts';

const run = promisify(execFile);
const python = parityPython();
let root = '';

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'codi-sd-train-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function capture() {
  const lines: string[] = [];
  return { lines, io: { log: (l: string) => lines.push(l), error: (l: string) => lines.push(`ERR ${l}`) } };
}

async function fakeDiffusers(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'unet'), { recursive: true });
  await mkdir(path.join(dir, 'scheduler'), { recursive: true });
  await writeFile(path.join(dir, 'unet', 'config.json'), '{}');
  await writeFile(path.join(dir, 'scheduler', 'scheduler_config.json'), '{}');
}

const f32 = (b: Buffer) => new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
const wave = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + k));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('codi train with a diffusers backbone', () => {
  it('recognises a diffusers folder and builds the trainer command line', async () => {
    const dir = path.join(root, 'fake');
    expect(isDiffusersFolder(dir)).toBe(false);
    await fakeDiffusers(dir);
    expect(isDiffusersFolder(dir)).toBe(true);
    const args = sdTrainArgs({ backbone: dir, data: 'd', task: 'edit', out: 'o', steps: 5, muLrScale: 10, resume: true, gradCheckpointing: true });
    expect(args.slice(0, 2)).toEqual(['-m', 'codi_torch.sd.train']);
    expect(args).toEqual(expect.arrayContaining(['--task', 'edit', '--steps', '5', '--mu-lr-scale', '10', '--resume', '--grad-checkpointing']));
  });

  it('refuses the wrong method, the other trainer’s flags and a Python without torch, clearly', async () => {
    const dir = path.join(root, 'fake');
    await fakeDiffusers(dir);
    const base = ['--backbone', dir, '--task', 'inpaint', '--data', root, '--out', path.join(root, 'never')];
    const a = capture();
    expect(await runTrainCommand(base, a.io)).toBe(1);
    expect(a.lines.join('\n')).toMatch(/add --method pe-codi/);
    const b = capture();
    expect(await runTrainCommand([...base, '--method', 'pe-codi', '--net', 'tiny', '--crop', '64'], b.io)).toBe(1);
    expect(b.lines.join('\n')).toMatch(/--net, --crop: not used with a diffusers backbone/);
    const saved = process.env.CODI_PYTHON;
    process.env.CODI_PYTHON = path.join(root, 'no-such-python');
    try {
      const c = capture();
      expect(await runTrainCommand([...base, '--method', 'pe-codi'], c.io)).toBe(1);
      expect(c.lines.join('\n')).toMatch(/trained by PyTorch, and no Python with torch ≥ 1\.13 was found .*no-such-python: not found/);
    } finally {
      if (saved === undefined) delete process.env.CODI_PYTHON;
      else process.env.CODI_PYTHON = saved;
    }
  });

  it.skipIf(python === null)(
    'trains 4 steps on two data-parallel ranks, exports, and the ONNX adapter + backbone reproduce PyTorch',
    async () => {
      const env = { ...process.env, PYTHONPATH: TORCH_PACKAGE_DIR };
      await run(python!, ['-m', 'tests.sd_fixtures', root, '--task', 'inpaint'], { cwd: TORCH_PACKAGE_DIR, env });
      const out = path.join(root, 'out');
      const t = capture();
      const argv = ['--backbone', path.join(root, 'backbone'), '--method', 'pe-codi', '--task', 'inpaint', '--data', path.join(root, 'data'), '--out', out,
        '--steps', '4', '--batch', '2', '--lr', '1e-2', '--mu-lr-scale', '10', '--checkpoint-every', '2', '--processes', '2'];
      expect(await runTrainCommand(argv, t.io), t.lines.join('\n')).toBe(0);
      const log = t.lines.join('\n');
      expect(log).toMatch(/PE-CoDi on epsilon backbone: \d+ trainable \/ \d+ frozen parameters, 5 mix points, 8 items; 4 steps, batch 2, 2 process\(es\) on cpu/);
      expect(log.match(/^step 4\/4/gm)).toHaveLength(1); // rank 0 alone reports
      expect(log).toMatch(/step 4\/4 {2}loss=\S+ {2}consistency=\S+ dx=\S+ .* samples\/s/);
      expect(log).toMatch(/checkpoint step 2 →/);
      expect(log).toMatch(/exported →/);
      const manifest = JSON.parse(await readFile(path.join(out, 'codi_adapter', 'codi_adapter.json'), 'utf8')) as { mixPoints: number; training: { steps: number } };
      expect(manifest.mixPoints).toBe(5);
      expect(manifest.training.steps).toBe(4);

      // the same inputs through PyTorch (EMA branch of the last checkpoint) and through onnxruntime
      const [z, c, e] = [wave(4 * 64, 0.37), wave(5 * 64, 0.11), wave(4 * 16, 0.53)];
      await writeFile(path.join(root, 'z.f32'), z);
      await writeFile(path.join(root, 'c.f32'), c);
      await writeFile(path.join(root, 'e.f32'), e);
      const reference = [
        'import sys, numpy as np, torch',
        'from pathlib import Path',
        'from codi_torch.sd.loader import load_backbone',
        'from codi_torch.sd.adapter import AdaptedSD, CoDiAdapter',
        'from codi_torch.sd.train import latest_checkpoint, read_checkpoint',
        'root = Path(sys.argv[1]); bb = load_backbone(root / "backbone"); ad = CoDiAdapter(bb.unet, 5)',
        'ad.load_state_dict(read_checkpoint(latest_checkpoint(root / "out.run"))["ema"])',
        'r = lambda n, s: torch.from_numpy(np.fromfile(root / n, dtype="<f4").reshape(s))',
        'z, c, e, t = r("z.f32", (1, 4, 8, 8)), r("c.f32", (1, 5, 8, 8)), r("e.f32", (1, 4, 16)), torch.tensor([980.0])',
        'with torch.no_grad():',
        '    AdaptedSD(bb.unet, ad)(z, t, e, c).numpy().astype("<f4").tofile(root / "adapted.f32")',
        '    bb.unet(z, t, e).numpy().astype("<f4").tofile(root / "plain.f32")',
        '    print(float(ad.mu.abs().max()))',
      ].join('\n');
      const { stdout } = await run(python!, ['-c', reference, root], { cwd: TORCH_PACKAGE_DIR, env });
      expect(Number(stdout.trim())).toBeGreaterThan(0); // μ has moved, so the branch matters in the comparison

      const adapter = await ort.InferenceSession.create(path.join(out, 'codi_adapter', 'model.onnx'));
      const unet = await ort.InferenceSession.create(path.join(out, 'unet', 'model.onnx'));
      const common = {
        sample: new ort.Tensor('float32', z, [1, 4, 8, 8]),
        timestep: new ort.Tensor('float32', Float32Array.from([980]), [1]),
        encoder_hidden_states: new ort.Tensor('float32', e, [1, 4, 16]),
      };
      const features = await adapter.run({ ...common, condition: new ort.Tensor('float32', c, [1, 5, 8, 8]) });
      expect(Object.keys(features).sort()).toEqual([...Array.from({ length: 5 }, (_, i) => `adapter_feature_${i}`), 'adapter_mu'].sort());
      const adapted = await unet.run({ ...common, ...features });
      expect(maxAbsDiff(adapted.out_sample!.data as Float32Array, f32(await readFile(path.join(root, 'adapted.f32'))))).toBeLessThan(1e-4);
      const zeros: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(features)) zeros[k] = new ort.Tensor('float32', new Float32Array(v.size), v.dims);
      const plain = await unet.run({ ...common, ...zeros });
      expect(maxAbsDiff(plain.out_sample!.data as Float32Array, f32(await readFile(path.join(root, 'plain.f32'))))).toBeLessThan(1e-4);
      await adapter.release();
      await unet.release();
    },
    180_000,
  );
});
