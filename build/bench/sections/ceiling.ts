/**
 * Bench section 1, hardware ceiling: onnxruntime's throughput on one large 3×3 convolution (the measured
 * peak of this CPU for the kind of op our network is made of), then the pack network's
 * achieved GFLOP/s in onnxruntime at 256² as a fraction of it.
 */
import { Rng } from '../../../core/rng.ts';
import { OrtRuntime } from '../../../electron/engine/ort.ts';
import type { OrtTensorIn } from '../../../electron/engine/ort.ts';
import { attr, OnnxGraph, ONNX_OPSET } from '../../../training/export/onnx-builder.ts';
import { encodeModel, OnnxDataType } from '../../../training/export/onnx-proto.ts';
import { openPacks } from '../../eval/pack-rows.ts';
import { loadRestorePack } from '../bench-packs.ts';
import type { Section } from '../section.ts';
import { round, timeIt } from '../stats.ts';
import { networkEval } from './network-eval.ts';

/** One Conv (C→C, 3×3, pad 1) on [1, C, S, S], written with the project's ONNX writer. */
export function convModelBytes(channels: number, side: number, seed = 1): Uint8Array {
  const g = new OnnxGraph();
  const w = new Rng(seed).fillGaussian(new Float32Array(channels * channels * 9)).map((v) => v * 0.05);
  const wName = g.initializer('w', [channels, channels, 3, 3], w);
  const b = g.initializer('b', [channels], new Float32Array(channels));
  const y = g.node('Conv', ['x', wName, b], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])]);
  return encodeModel({
    graphName: 'conv3x3',
    docString: 'bench: single 3x3 convolution',
    opset: ONNX_OPSET,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: 'x', elemType: OnnxDataType.float, shape: [1, channels, side, side] }],
    outputs: [{ name: y, elemType: OnnxDataType.float, shape: [1, channels, side, side] }],
  });
}

export const convFlops = (channels: number, side: number): number => 2 * 9 * channels * channels * side * side;

/** Best-of-runs GFLOP/s of the conv at `threads` (microkernel: the minimum time, per docs/benchmarking.md §2). */
export async function convPeak(channels: number, side: number, threads: number, runs: number): Promise<{ gflops: number; ms: number }> {
  const rt = new OrtRuntime({ providers: ['cpu'], threads });
  try {
    const s = await rt.load(`conv-${channels}-${side}`, convModelBytes(channels, side));
    const x: OrtTensorIn = { data: new Rng(2).fillGaussian(new Float32Array(channels * side * side)), dims: [1, channels, side, side] };
    const t = await timeIt(() => s.run({ [s.inputNames[0]!]: x }), { runs });
    return { gflops: convFlops(channels, side) / (t.minMs * 1e6), ms: t.minMs };
  } finally {
    await rt.releaseAll();
  }
}

export const ceiling: Section = async (ctx) => {
  const [C, S] = ctx.quick ? [128, 64] : [320, 64];
  const rows: Record<string, string | number>[] = [];
  const peaks: number[] = [];
  for (const threads of [...new Set([1, ctx.threads])]) {
    const p = await convPeak(C, S, threads, ctx.runs);
    peaks.push(p.gflops);
    rows.push({ what: `conv3×3 ${C}→${C} @${S}² (ORT)`, threads, ms: round(p.ms, 2), gflops: round(p.gflops, 1), fractionOfPeak: '' });
  }
  const peak = Math.max(...peaks);
  const pick = await loadRestorePack(ctx.packs);
  const side = ctx.quick ? 128 : 256;
  const net = await networkEval(pick.model, ctx.net, side, ctx.seed);
  const t = await timeIt(net.run, { runs: ctx.runs });
  const achieved = net.flops / (t.medianMs * 1e6);
  const frac = achieved / peak;
  // The same network at 1 thread: how well the second core is used by the whole graph.
  if (ctx.threads > 1) {
    const one = await openPacks(ctx.packsDir, 1);
    try {
      const net1 = await networkEval(await one.registry.load(pick.record.name), ctx.net, side, ctx.seed);
      const t1 = await timeIt(net1.run, { runs: ctx.runs });
      const g1 = net1.flops / (t1.medianMs * 1e6);
      rows.push({ what: `${pick.record.name} one network eval @${side}²`, threads: 1, ms: round(t1.medianMs, 2), gflops: round(g1, 1), fractionOfPeak: `${((g1 / peaks[0]!) * 100).toFixed(0)} % of 1-thread peak` });
    } finally {
      await one.close();
    }
  }
  rows.push({ what: `${pick.record.name} one network eval @${side}² (${(net.flops / 1e9).toFixed(2)} GFLOP)`, threads: ctx.threads, ms: round(t.medianMs, 2), gflops: round(achieved, 1), fractionOfPeak: `${(frac * 100).toFixed(0)} %` });
  return {
    title: '1. Hardware ceiling',
    goal: { text: 'network ≥ 80 % of the measured conv peak', met: frac >= 0.8, measured: `${(frac * 100).toFixed(0)} % (${achieved.toFixed(1)} of ${peak.toFixed(1)} GFLOP/s)${frac >= 0.8 ? '' : `, ${((0.8 - frac) * 100).toFixed(0)} points short`}` },
    rows,
    notes: [
      'Peak: min time of a single Conv written with training/export/onnx-builder.ts, graphOptimizationLevel all.',
      `Network: median of ${ctx.runs} evals (p90 ${t.p90Ms.toFixed(1)} ms); FLOPs from core/nn/trace countFlops (multiply-add = 2).`,
    ],
  };
};
