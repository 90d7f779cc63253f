/**
 * `npm run bench:train`: samples/s and GFLOP/s of one CoDi training step on the CI-sized
 * network, on wasm + the project's gradient kernels and on the stock pure-JS cpu backend
 * (cpu: a single step, it is ~100× slower).
 *
 * FLOPs per sample of a CoDi step = 5 × forward FLOPs of the fused denoiser: the no-grad
 * one-step ODE forward, the no-grad EMA-target forward, and the online forward + backward
 * (backward counted as 2 × forward, the usual estimate). Forward FLOPs come from C's tracer.
 *
 * Options: --latent N (latent side, default 8 = 32 px), --batch N (16), --steps N (wasm timed
 * steps, 5), --net tiny|small|default (tiny), --skip-cpu.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initTrainingBackend } from '../tf/backend.ts';
import { Trainer } from '../trainer/trainer.ts';
import { countFlops, createBackbone, paramsToRecord } from '../model/network.ts';
import { NET_PRESETS } from '../cli/train.ts';
import { randomLatentData } from '../trainer/test-fixtures.ts';

const { values } = parseArgs({
  options: {
    latent: { type: 'string', default: '8' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '5' },
    net: { type: 'string', default: 'tiny' },
    'skip-cpu': { type: 'boolean', default: false },
  },
});
const side = Number(values.latent);
const batch = Number(values.batch);
const timed = Number(values.steps);
const net = NET_PRESETS[values.net as keyof typeof NET_PRESETS];
if (!net) throw new Error(`unknown --net ${values.net}`);

const fwd = countFlops(net, 'denoiser', { batch: 1, height: side, width: side }, { condChannels: 48, textDim: 0 });
const stepFlopsPerSample = 5 * fwd;

async function measure(backend: 'wasm' | 'cpu', warmup: number, steps: number): Promise<{ samplesPerSec: number; gflops: number; msPerStep: number; name: string }> {
  const be = await initTrainingBackend({ prefer: backend, log: () => {} });
  const data = randomLatentData(Math.max(batch * 2, 8), side, side, 1);
  const bb = createBackbone(net, 1);
  const rec = paramsToRecord(bb);
  tf.dispose([...bb.values()]);
  const tr = Trainer.create({ method: 'codi', net, batchSize: batch, steps: warmup + steps, logEvery: 1_000_000, seed: 1 }, data, { backbone: rec });
  if (warmup > 0) await tr.run({ untilStep: warmup });
  const t0 = performance.now();
  await tr.run();
  const sec = (performance.now() - t0) / 1000;
  tr.dispose();
  const samplesPerSec = (steps * batch) / sec;
  return { name: be.name, samplesPerSec, gflops: (samplesPerSec * stepFlopsPerSample) / 1e9, msPerStep: (sec / steps) * 1000 };
}

console.log(`CoDi training step: net ${values.net} (base ${net.baseChannels}, ×[${net.channelMult}]), latent ${side}×${side}×48, batch ${batch}`);
console.log(`forward ${(fwd / 1e6).toFixed(1)} MFLOP/sample; step ≈ 5 × forward = ${(stepFlopsPerSample / 1e6).toFixed(1)} MFLOP/sample`);
const rows: string[] = [];
const w = await measure('wasm', 2, timed);
rows.push(`| ${w.name} + project kernels | ${timed} | ${w.msPerStep.toFixed(0)} | ${w.samplesPerSec.toFixed(1)} | ${w.gflops.toFixed(2)} |`);
if (!values['skip-cpu']) {
  const c = await measure('cpu', 0, 1);
  rows.push(`| ${c.name} (stock) | 1 | ${c.msPerStep.toFixed(0)} | ${c.samplesPerSec.toFixed(2)} | ${c.gflops.toFixed(3)} |`);
  console.log(`wasm / cpu speed-up: ${(w.samplesPerSec / c.samplesPerSec).toFixed(1)}×`);
}
console.log(['| backend | timed steps | ms/step | samples/s | GFLOP/s |', '|---|---|---|---|---|', ...rows].join('\n'));
