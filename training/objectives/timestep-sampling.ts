/**
 * Distillation timestep pairs on the coarse grid (docs/method.md §4.3): i ~ U{1..N−1}, t = i·k,
 * s = (i−1)·k, k = T/N. i = 0 is skipped because t = s = 0 gives a zero loss (pitfall 5).
 */
import type { Rng } from '../../core/rng.ts';

export type TSampling = 'sharedPerBatch' | 'perSample';

export interface TimestepPairs {
  t: number[];
  s: number[];
}

export function distillTimesteps(rng: Rng, batch: number, T: number, N: number, mode: TSampling): TimestepPairs {
  if (!Number.isInteger(N) || N < 2 || T % N !== 0) throw new Error(`distillation N must be ≥ 2 and divide T (T=${T}, N=${N})`);
  const k = T / N;
  const draw = () => rng.int(1, N);
  const t: number[] = [];
  const s: number[] = [];
  const shared = mode === 'sharedPerBatch' ? draw() : 0;
  for (let b = 0; b < batch; b++) {
    const i = mode === 'sharedPerBatch' ? shared : draw();
    t.push(i * k);
    s.push((i - 1) * k);
  }
  return { t, s };
}

/** v-loss timesteps: t ~ U{tMin..tMax} per sample (the standard DDPM protocol). */
export function vLossTimesteps(rng: Rng, batch: number, tMin: number, tMax: number): number[] {
  return Array.from({ length: batch }, () => rng.int(tMin, tMax + 1));
}
