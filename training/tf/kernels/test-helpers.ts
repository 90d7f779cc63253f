import * as tf from '@tensorflow/tfjs';
import { initTrainingBackend } from '../backend.ts';
import { registerProjectKernels } from './register.ts';

/** Deterministic uniform numbers in [-scale, scale) (mulberry32), so a failing case reproduces. */
export function seededRandom(seed: number): (n: number, scale?: number) => Float32Array {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n, scale = 1) => Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
}

/** max |actual − expected| / max |expected|: error relative to the magnitude of the reference. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let maxErr = 0;
  let maxMag = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number; // i < length of both (checked above)
    maxErr = Math.max(maxErr, Math.abs((actual[i] as number) - e));
    maxMag = Math.max(maxMag, Math.abs(e));
  }
  return maxErr / Math.max(maxMag, 1e-30);
}

/** wasm with the project kernels; the cpu backend (with its nearest-resize fix) as reference. */
export async function setUpWasmAndCpu(): Promise<void> {
  await initTrainingBackend({ prefer: 'wasm', log: () => {} });
  if (tf.getBackend() !== 'wasm') throw new Error(`expected the wasm backend, got ${tf.getBackend()}`);
  registerProjectKernels('cpu');
}

/** Runs `fn` on `backend` and copies its outputs out as plain arrays (nothing stays allocated). */
export async function onBackend(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outputs = tf.tidy(fn);
  const arrays = outputs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outputs);
  return arrays;
}
