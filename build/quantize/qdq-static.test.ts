/**
 * The static int8 rewrite (qdq_static.py) on the shipped inpaint denoiser: the probe graph exposes
 * every convolution's input and output, the QDQ graph computes what the float graph computes (to
 * int8 precision) and keeps float the convolutions --float-ends names; and the pack's shipped int8
 * copy matches its float graph on a realistic input.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';

const PY = process.env.CODI_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.join(import.meta.dirname, 'qdq_static.py');
const PACK = path.join(import.meta.dirname, '..', '..', 'native-models', 'codi-inpaint');
const hasOnnx = spawnSync(PY, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

const h = 32;
function feeds(): Record<string, ort.Tensor> {
  let s = 9;
  const rnd = (n: number, k: number): Float32Array =>
    Float32Array.from({ length: n }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return ((s / 2 ** 32) * 2 - 1) * k;
    });
  return { z: new ort.Tensor('float32', rnd(48 * h * h, 0.8), [1, 48, h, h]), t: new ort.Tensor('float32', Float32Array.of(999), [1]), cond: new ort.Tensor('float32', rnd(64 * h * h, 1), [1, 64, h, h]) };
}

async function v(model: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    return (await s.run(feeds())).v!.data as Float32Array;
  } finally {
    await s.release();
  }
}

function psnr(a: Float32Array, b: Float32Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += ((a[i] as number) - (b[i] as number)) ** 2;
  // v spans about [−2, 2]
  return 10 * Math.log10(4 / (se / a.length));
}

const convsWithFloatWeights = (model: string): number =>
  Number(execFileSync(PY, ['-c', `import onnx,sys; m=onnx.load(sys.argv[1]); i={x.name for x in m.graph.initializer}; print(sum(1 for n in m.graph.node if n.op_type=='Conv' and n.input[1] in i))`, model], { encoding: 'utf8' }));

describe.skipIf(!hasOnnx)('qdq_static.py', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qdq-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const float = path.join(PACK, 'denoiser.onnx');

  it('quantises every convolution, or all but the input and output ones, close to the float graph', async () => {
    const probe = path.join(dir, 'probe.onnx');
    execFileSync(PY, [SCRIPT, 'probe', float, probe]);
    const s = await ort.InferenceSession.create(probe, { intraOpNumThreads: 1 });
    const out = await s.run(feeds());
    await s.release();
    const ranges: Record<string, [number, number]> = {};
    for (const [name, t] of Object.entries({ ...out, ...feeds() })) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of t.data as Float32Array) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      ranges[name] = [lo, hi];
    }
    expect(Object.keys(ranges).length).toBeGreaterThan(30);
    writeFileSync(path.join(dir, 'ranges.json'), JSON.stringify(ranges));
    const ref = await v(float);
    for (const ends of [false, true]) {
      const q = path.join(dir, `q-${ends}.onnx`);
      execFileSync(PY, [SCRIPT, 'quantise', float, path.join(dir, 'ranges.json'), q, ...(ends ? ['--float-ends'] : [])]);
      // --float-ends: the condition's first convolution, the two that read z (adapter and backbone) and the output one
      expect(convsWithFloatWeights(q)).toBe(ends ? 4 : 0);
      const got = psnr(await v(q), ref);
      expect(got).toBeGreaterThan(30);
      expect(got).toBeLessThan(80); // it did quantise something
    }
  }, 60_000);

  it('the shipped int8 copy is listed in the manifest and matches the float graph', async () => {
    const manifest = JSON.parse(readFileSync(path.join(PACK, 'manifest.json'), 'utf8')) as { files: { path: string; precision?: string }[] };
    const int8 = manifest.files.find((f) => f.precision === 'int8');
    expect(int8?.path).toBe('denoiser-int8.onnx');
    expect(convsWithFloatWeights(path.join(PACK, 'denoiser-int8.onnx'))).toBe(4);
    expect(psnr(await v(path.join(PACK, 'denoiser-int8.onnx')), await v(float))).toBeGreaterThan(30);
  }, 60_000);
});
