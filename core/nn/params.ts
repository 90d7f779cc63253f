/**
 * Plain-data parameters (checkpoints, export) and their seeded initialisation.
 * Pure TypeScript so the exporter and tests can build weights without TF.js.
 */
import type { ParamInit, ParamSpec } from './builder.ts';

/** One parameter as plain data; `data.length` = product of `shape`. */
export interface ParamTensor {
  shape: number[];
  data: Float32Array;
}

/** Parameters by name, as stored in checkpoints and consumed by the ONNX exporter. */
export type ParamRecord = Record<string, ParamTensor>;

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Deterministic uniform [0, 1) generator (mulberry32); the same seed gives the same weights everywhere. */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box–Muller on a seeded uniform source. */
export function seededNormal(seed: number): () => number {
  const u = seededUniform(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    const u1 = Math.max(u(), 1e-12);
    const r = Math.sqrt(-2 * Math.log(u1));
    const a = 2 * Math.PI * u();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

function fill(init: ParamInit, n: number, normal: () => number): Float32Array {
  const out = new Float32Array(n);
  if (init.kind === 'ones') out.fill(1);
  else if (init.kind === 'normal') for (let i = 0; i < n; i++) out[i] = normal() * init.std;
  return out;
}

/** Initial values for `specs`, drawn in spec order from one seeded stream. */
export function initParams(specs: readonly ParamSpec[], seed: number): ParamRecord {
  const normal = seededNormal(seed);
  const rec: ParamRecord = {};
  for (const s of specs) rec[s.name] = { shape: [...s.shape], data: fill(s.init, shapeSize(s.shape), normal) };
  return rec;
}

/** Number of scalars in a set of parameters. */
export function countParams(specs: readonly { shape: readonly number[] }[]): number {
  return specs.reduce((a, s) => a + shapeSize(s.shape), 0);
}
