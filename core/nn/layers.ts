/**
 * Parameter declarations of the builder's parametrised ops. Every builder derives the
 * names, shapes and initialisation of a layer's weights from these functions, so the
 * trainer, the exporter and the shape tracer agree on them by construction.
 */
import type { Conv2dSpec, DenseSpec, ParamSpec } from './builder.ts';

/** LeCun-normal std: keeps activations' variance roughly constant through a linear layer. */
function lecunStd(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/** `.w` [k, k, in, out] (HWIO) and `.b` [out]. */
export function conv2dParams(name: string, spec: Conv2dSpec): ParamSpec[] {
  const fanIn = spec.kernel * spec.kernel * spec.inC;
  return [
    {
      name: `${name}.w`,
      shape: [spec.kernel, spec.kernel, spec.inC, spec.outC],
      init: spec.zeroInit ? { kind: 'zeros' } : { kind: 'normal', std: lecunStd(fanIn) },
    },
    { name: `${name}.b`, shape: [spec.outC], init: { kind: 'zeros' } },
  ];
}

/** `.w` [in, out] and `.b` [out]. */
export function denseParams(name: string, spec: DenseSpec): ParamSpec[] {
  return [
    {
      name: `${name}.w`,
      shape: [spec.inF, spec.outF],
      init: spec.zeroInit ? { kind: 'zeros' } : { kind: 'normal', std: lecunStd(spec.inF) },
    },
    { name: `${name}.b`, shape: [spec.outF], init: { kind: 'zeros' } },
  ];
}

/** `.gamma` (ones) and `.beta` (zeros), one per channel. */
export function groupNormParams(name: string, channels: number): ParamSpec[] {
  return [
    { name: `${name}.gamma`, shape: [channels], init: { kind: 'ones' } },
    { name: `${name}.beta`, shape: [channels], init: { kind: 'zeros' } },
  ];
}

/** Frequencies f_i = 10000^(−i/half) of the sinusoidal timestep embedding (half = dim/2). */
export function timestepFrequencies(dim: number): Float32Array {
  const half = dim / 2;
  const f = new Float32Array(half);
  for (let i = 0; i < half; i++) f[i] = Math.exp((-Math.log(10000) * i) / half);
  return f;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
