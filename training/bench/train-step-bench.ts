/**
 * `npm run bench:train`: samples/s and GFLOP/s of one CoDi training step on the TF.js engine
 * (wasm + the project's gradient kernels) and on the PyTorch engine (fp32, and bf16 where the
 * CPU has bf16 kernels), same network, batch, latent size and data, in one run; prints the
 * torch / wasm ratio. Both run the full trainer loop (data, draws, objective, AdamW, EMA).
 *
 * FLOPs per sample of a CoDi step, in forwards F of the fused denoiser (from the tracer; backward
 * counted as 2F, the usual estimate): TF.js runs the no-grad one-step ODE forward, the no-grad
 * EMA-target forward and the online forward + backward = 5F. The torch engine reuses the online
 * forward for the ODE step (with the paper's default odeModel 'adapted' both are the online model
 * at (z_t, t)) = 4F. Each engine's GFLOP/s counts the work it does; samples/s compares the runs.
 *
 * Options: --latent N (latent side, default 16 = 64 px), --batch N (16), --nets small,default,
 * --steps N (timed wasm steps, 3), --torch-steps N (timed torch steps, 10), --no-tfjs.
 * Each timed step is timed alone: the table gives the median step and the fastest one.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { initParams } from '../../core/nn/params.ts';
import { backboneParamSpecs } from '../../core/nn/trace.ts';
import { NET_PRESETS } from '../cli/train.ts';
import { findTorchPython } from '../engine-torch/python.ts';
import { TorchTrainer } from '../engine-torch/torch-trainer.ts';
import { countFlops } from '../model/network.ts';
import { initTrainingBackend } from '../tf/backend.ts';
import type { TrainEvent } from '../trainer/events.ts';
import { randomLatentData } from '../trainer/test-fixtures.ts';
import { Trainer } from '../trainer/trainer.ts';
import type { TrainConfig } from '../trainer/trainer.ts';

const { values } = parseArgs({
  options: {
    latent: { type: 'string', default: '16' },
    batch: { type: 'string', default: '16' },
    nets: { type: 'string', default: 'small,default' },
    steps: { type: 'string', default: '3' },
    'torch-steps': { type: 'string', default: '10' },
    'no-tfjs': { type: 'boolean', default: false },
  },
});
const side = Number(values.latent);
const batch = Number(values.batch);
const nets = values.nets.split(',') as Array<keyof typeof NET_PRESETS>;
for (const n of nets) if (!(n in NET_PRESETS)) throw new Error(`unknown net ${n}`);

interface Row {
  engine: string;
  /** From the median step time, and from the fastest step (the least disturbed by other load). */
  samplesPerSec: number;
  bestSamplesPerSec: number;
  gflops: number;
  msPerStep: number;
  /** Mean loss of the last step and how many steps the run had taken (compare rows of equal steps). */
  loss: number;
  steps: number;
}

interface Runner {
  events: { on(l: (e: TrainEvent) => void): () => void };
  run(o?: { untilStep?: number }): Promise<unknown>;
}

async function timed(tr: Runner, warmup: number, steps: number, flopsPerSample: number, engine: string): Promise<Row> {
  let loss = Number.NaN;
  tr.events.on((e) => {
    if (e.type === 'progress') loss = e.meanLoss;
  });
  await tr.run({ untilStep: warmup });
  const ms: number[] = [];
  for (let s = warmup + 1; s <= warmup + steps; s++) {
    const t0 = performance.now();
    await tr.run({ untilStep: s });
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)]!;
  const samplesPerSec = (batch * 1000) / median;
  return { engine, samplesPerSec, bestSamplesPerSec: (batch * 1000) / ms[0]!, gflops: (samplesPerSec * flopsPerSample) / 1e9, msPerStep: median, loss, steps: warmup + steps };
}

const probe = findTorchPython();
if (!probe.ok) console.log(`torch engine not measured: ${probe.reason}`);
await initTrainingBackend({ prefer: 'wasm', log: () => {} });
const table: string[] = ['| net | engine | ms/step (median) | samples/s | GFLOP/s | × wasm | best step: samples/s, × wasm | loss at step |', '|---|---|---|---|---|---|---|---|'];
for (const netName of nets) {
  const net = NET_PRESETS[netName];
  const forward = countFlops(net, 'denoiser', { batch: 1, height: side, width: side }, { condChannels: 48, textDim: 0 });
  const flopsPerSample = 5 * forward;
  const torchFlopsPerSample = 4 * forward;
  const data = randomLatentData(batch * 2, side, side, 1);
  const backbone = initParams(backboneParamSpecs(net), 1);
  console.log(`net ${netName} (base ${net.baseChannels}, ×[${net.channelMult}]), latent ${side}×${side}×48, batch ${batch}: forward ${(forward / 1e6).toFixed(0)} MFLOP/sample; step TF.js 5 × forward, torch 4 × forward`);
  const rows: Row[] = [];
  const tfSteps = Number(values.steps);
  const torchSteps = Number(values['torch-steps']);
  const cfg = (steps: number): Partial<TrainConfig> => ({ method: 'codi', net, batchSize: batch, steps, logEvery: 1, seed: 1 });
  if (!values['no-tfjs']) {
    const tr = Trainer.create(cfg(1 + tfSteps), data, { backbone });
    rows.push(await timed(tr, 1, tfSteps, flopsPerSample, 'TF.js wasm'));
    tr.dispose();
  }
  if (probe.ok) {
    for (const precision of ['fp32', 'bf16'] as const) {
      let tr: TorchTrainer;
      try {
        tr = await TorchTrainer.create(cfg(2 + torchSteps), data, { backbone }, null, { python: probe.found.python, precision });
      } catch (err) {
        console.log(`torch ${precision}: ${(err as Error).message}`);
        continue;
      }
      rows.push(await timed(tr, 2, torchSteps, torchFlopsPerSample, `PyTorch ${probe.found.torch} ${precision} (${tr.deviceInfo})`));
      await tr.dispose();
    }
  }
  const base = rows.find((r) => r.engine.startsWith('TF.js'));
  for (const r of rows) {
    const ratio = base ? `${(r.samplesPerSec / base.samplesPerSec).toFixed(1)}×` : '–';
    const bestRatio = base ? `${(r.bestSamplesPerSec / base.bestSamplesPerSec).toFixed(1)}×` : '–';
    const line = `| ${netName} | ${r.engine} | ${r.msPerStep.toFixed(0)} | ${r.samplesPerSec.toFixed(1)} | ${r.gflops.toFixed(1)} | ${ratio} | ${r.bestSamplesPerSec.toFixed(1)}, ${bestRatio} | ${r.loss.toPrecision(4)} @ ${r.steps} |`;
    table.push(line);
    console.log(line);
  }
}
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores (other work on the machine slows the 2-thread torch engine more than 1-thread wasm)`);
console.log(table.join('\n'));
