/**
 * Parity of the training engine's SD UNet (training/torch/codi_torch/sd/unet.py) and its ONNX export run by the
 * app's ONNX Runtime: `python -m codi_torch.sd.parity` writes tiny SD 1.x-like (ε) and SD 2.x-like (v) diffusers
 * folders, fixed inputs and the torch outputs; the export must reproduce them within 1e-4. The script itself also
 * checks that load_backbone reads the ONNX initialisers back into the identical network. Needs a Python with torch
 * (training/engine-torch/python.ts); without one the test says so and skips.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTorchPython } from '../../training/engine-torch/python.ts';
import { TORCH_PACKAGE_DIR } from '../../training/engine-torch/worker.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';

const TOLERANCE = 1e-4;
const probe = findTorchPython();
const python = probe.ok ? probe.found.python : null;
const skipReason = probe.ok ? '' : ` (skipped: no Python with torch ≥ 1.13: ${probe.reason})`;
const runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });

const PREDICTIONS = ['epsilon', 'v_prediction'] as const;

async function writeParityCase(dir: string, prediction: (typeof PREDICTIONS)[number]): Promise<void> {
  try {
    await promisify(execFile)(python!, ['-m', 'codi_torch.sd.parity', dir, '--prediction', prediction], {
      cwd: TORCH_PACKAGE_DIR,
      env: { ...process.env, PYTHONPATH: TORCH_PACKAGE_DIR, OMP_NUM_THREADS: '1' },
      timeout: 900_000,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    const e = err as { code?: number | string; signal?: string; stderr?: string; stdout?: string };
    throw new Error(`python -m codi_torch.sd.parity --prediction ${prediction} failed (${e.code ?? e.signal}): ${(e.stderr || e.stdout || String(err)).slice(-2000)}`);
  }
}

interface ParityCase {
  prediction: 'epsilon' | 'v_prediction';
  shapes: Record<'sample' | 'timestep' | 'encoder_hidden_states' | 'out_sample', number[]>;
}

async function readF32(path: string, shape: readonly number[]): Promise<Float32Array> {
  const bytes = await readFile(path);
  const n = shape.reduce((a, b) => a * b, 1);
  expect(bytes.byteLength).toBe(n * 4);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe.skipIf(python === null)(`SD UNet: torch vs ONNX export${skipReason}`, () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'codi-sd-parity-'));
    // One process per config: the two exports (tens of seconds of CPU each) run on two cores at once.
    await Promise.all(PREDICTIONS.map((prediction) => writeParityCase(dir, prediction)));
  }, 900_000);
  afterAll(async () => {
    await runtime.releaseAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const prediction of PREDICTIONS) {
    it(`${prediction === 'epsilon' ? 'SD 1.x-like (conv projections)' : 'SD 2.x-like (linear projections)'}: ORT output within ${TOLERANCE} of torch`, async () => {
      const folder = join(dir, prediction);
      const meta = JSON.parse(await readFile(join(folder, 'parity', 'parity.json'), 'utf8')) as ParityCase;
      expect(meta.prediction).toBe(prediction);
      const session = await runtime.load(`sd-parity-${prediction}`, await readFile(join(folder, 'unet', 'model.onnx')));
      expect([...session.inputNames].sort()).toEqual(['encoder_hidden_states', 'sample', 'timestep']);
      const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
      for (const name of ['sample', 'timestep', 'encoder_hidden_states'] as const) {
        feeds[name] = { data: await readF32(join(folder, 'parity', `${name}.f32`), meta.shapes[name]), dims: meta.shapes[name] };
      }
      const out = (await session.run(feeds)).out_sample;
      expect(out).toBeDefined();
      expect([...out!.dims]).toEqual(meta.shapes.out_sample);
      const expected = await readF32(join(folder, 'parity', 'out_sample.f32'), meta.shapes.out_sample);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < expected.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(out!.data[i]! - expected[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(expected[i]!));
      }
      // The output is O(1), so the absolute tolerance is a meaningful one; an all-zero output would not be.
      expect(maxAbs).toBeGreaterThan(0.1);
      expect(maxDiff).toBeLessThan(TOLERANCE);
    });
  }
});
