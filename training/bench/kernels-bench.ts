/**
 * GFLOP/s of the convolution kernels a training step leans on: the forward 3×3 conv, the input
 * gradient and the filter gradient (the project's forward-conv kernels on wasm), plus the wasm
 * backend's shipped Conv2DBackpropInput and one small cpu-backend reference.
 * Run: npx tsx training/bench/kernels-bench.ts [--quick]
 * FLOPs per op = 2·N·Ho·Wo·kh·kw·Cin·Cout (the same count for all three). Each figure is the
 * median of several timed runs after one warm-up; on a shared machine read them as rough.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerProjectKernels } from '../tf/kernels/register.ts';

interface Shape {
  batch: number;
  size: number;
  channels: number;
  stride: 1 | 2;
}

type Op = 'forward' | 'inputGrad' | 'filterGrad';

const quick = process.argv.includes('--quick');

function flops(s: Shape): number {
  const out = Math.ceil(s.size / s.stride);
  return 2 * s.batch * out * out * 9 * s.channels * s.channels;
}

/** Median seconds of `run` over at least `minRuns` runs or `minSeconds` total, after one warm-up. */
function timeIt(run: () => void, minRuns = quick ? 2 : 4, minSeconds = quick ? 0.2 : 0.6): number {
  run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start) / 1000 < minSeconds) {
    const t0 = performance.now();
    run();
    times.push((performance.now() - t0) / 1000);
    if (times.length >= 50) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function measure(s: Shape, op: Op, slow = false): number {
  const x = tf.randomNormal<tf.Rank.R4>([s.batch, s.size, s.size, s.channels]);
  const w = tf.randomNormal<tf.Rank.R4>([3, 3, s.channels, s.channels], 0, 0.05);
  const dy = tf.tidy(() => tf.randomNormal<tf.Rank.R4>(tf.conv2d(x, w, s.stride, 'same').shape));
  const run = (): void => {
    const out =
      op === 'forward'
        ? tf.conv2d(x, w, s.stride, 'same')
        : op === 'inputGrad'
          ? tf.conv2dTranspose(dy, w, x.shape, s.stride, 'same')
          : (tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropFilter, { x, dy }, { strides: s.stride, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape }));
    out.dataSync();
    out.dispose();
  };
  const seconds = slow ? timeIt(run, 1, 0) : timeIt(run);
  tf.dispose([x, w, dy]);
  return flops(s) / seconds / 1e9;
}

function formatRate(gflops: number): string {
  return gflops >= 1 ? gflops.toFixed(2) : gflops.toPrecision(2);
}

/** `slow`: one timed run, for the kernels that take seconds (pure-JS cpu, wasm's shipped input gradient). */
function row(label: string, s: Shape, ops: Op[], slow = false): void {
  const figures = ops.map((op) => `${op} ${formatRate(measure(s, op, slow)).padStart(6)}`).join('   ');
  console.log(`${label.padEnd(6)} C=${String(s.channels).padEnd(3)} ${s.size}×${s.size} N=${String(s.batch).padEnd(2)} stride ${s.stride}   ${figures}   GFLOP/s`);
}

const require = createRequire(import.meta.url);
setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
await tf.setBackend('wasm');
console.log(`wasm SIMD: ${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}, threads: ${String(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))}; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);

// The wasm backend's own input-gradient kernel, before the project's replaces it.
row('wasm*', { batch: 4, size: 16, channels: 64, stride: 1 }, ['inputGrad'], true);
console.log('       (* shipped tfjs-backend-wasm Conv2DBackpropInput; wasm has no Conv2DBackpropFilter)');

registerProjectKernels('wasm');
const shapes: Shape[] = [];
for (const channels of [64, 128]) {
  for (const [size, batch] of quick ? [[16, 8]] : [[16, 16], [32, 8]]) shapes.push({ batch: batch!, size: size!, channels, stride: 1 });
}
shapes.push({ batch: 16, size: 16, channels: 64, stride: 2 });
for (const s of shapes) row('wasm', s, ['forward', 'inputGrad', 'filterGrad']);

await tf.setBackend('cpu');
row('cpu', { batch: 1, size: 16, channels: 64, stride: 1 }, ['forward', 'inputGrad', 'filterGrad'], true);
