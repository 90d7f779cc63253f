/**
 * `npx tsx build/quantize/compare-forward.ts DIR`: one inpaint network eval (adapter + backbone at
 * a 256² context, 64² latent) of the fp32 packs against the variants build/quantize/conv_integer.py
 * wrote to DIR (ad-u8.onnx + bb-u8.onnx, ad-s8.onnx + bb-s8.onnx), interleaved in one process so
 * machine load hits all alike: median and min of 12 runs after 2 warm-ups, and the PSNR of each
 * variant's v output against fp32 (range 2) as a first quality check.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: compare-forward.ts DIR (the quantised graphs)');
  const packs = fileURLToPath(new URL('../../native-models/', import.meta.url));
  const threads = Number(process.env.THREADS ?? 2);
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' };
  const variants: Record<string, [string, string]> = { fp32: [path.join(packs, 'codi-inpaint/adapter.onnx'), path.join(packs, 'codi-backbone/backbone.onnx')] };
  for (const k of ['u8', 's8']) {
    const pair: [string, string] = [path.join(dir, `ad-${k}.onnx`), path.join(dir, `bb-${k}.onnx`)];
    if (pair.every((f) => existsSync(f))) variants[k] = pair;
  }
  const sessions = new Map<string, [ort.InferenceSession, ort.InferenceSession]>();
  for (const [k, [a, b]] of Object.entries(variants)) sessions.set(k, [await ort.InferenceSession.create(a, opts), await ort.InferenceSession.create(b, opts)]);
  let s = 1;
  const rnd = (n: number): Float32Array =>
    Float32Array.from({ length: n }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s / 2 ** 32) * 2 - 1;
    });
  const h = 64;
  const feedsA = { z: new ort.Tensor('float32', rnd(48 * h * h), [1, 48, h, h]), t: new ort.Tensor('float32', Float32Array.of(999), [1]), cond: new ort.Tensor('float32', rnd(64 * h * h), [1, 64, h, h]) };
  const run = async ([a, b]: [ort.InferenceSession, ort.InferenceSession]): Promise<[number, Float32Array]> => {
    const t0 = performance.now();
    const oa = await a.run(feedsA);
    const mu = oa.mu;
    if (!mu) throw new Error('adapter gave no mu');
    const fb: Record<string, ort.Tensor> = { z: feedsA.z, t: feedsA.t, mu };
    for (const [n, v] of Object.entries(oa)) {
      const m = /^feat_(\d+)$/.exec(n);
      if (m) fb[`mix_${m[1]}`] = v;
    }
    const v = (await b.run(fb)).v;
    if (!v) throw new Error('backbone gave no v');
    return [performance.now() - t0, v.data as Float32Array];
  };
  const times = new Map<string, number[]>();
  const outs = new Map<string, Float32Array>();
  for (let i = 0; i < 14; i++) {
    for (const [k, sess] of sessions) {
      const [t, v] = await run(sess);
      if (i >= 2) times.set(k, [...(times.get(k) ?? []), t]);
      outs.set(k, v);
    }
  }
  const ref = outs.get('fp32') as Float32Array;
  const median = (x: number[]): number => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)] as number;
  const base = median(times.get('fp32') ?? []);
  for (const [k, t] of times) {
    const v = outs.get(k) as Float32Array;
    let se = 0;
    for (let i = 0; i < v.length; i++) se += ((v[i] as number) - (ref[i] as number)) ** 2;
    const psnr = se === 0 ? Infinity : 10 * Math.log10(4 / (se / v.length));
    console.log(`${k}: median ${median(t).toFixed(1)} ms (${(base / median(t)).toFixed(2)}× fp32), min ${Math.min(...t).toFixed(1)} ms, v PSNR vs fp32 ${psnr.toFixed(1)} dB`);
  }
}

await main();
