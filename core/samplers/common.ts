/** Shared sampler types: the model call, progress and cancellation. */
import type { PredictionType } from '../math/parameterization.ts';

/**
 * The denoiser: model output (v by default) at latent z and timestep t (the network gets t as
 * float32; DPM-Solver may pass fractional t). The sampler disposes the returned tensor.
 */
export type DenoiseFn<T> = (z: T, t: number) => Promise<T> | T;

/** Checked between steps; an AbortController's signal fits. */
export interface AbortSignalLike {
  readonly aborted: boolean;
}

export interface SamplerOptions {
  /** Number of model evaluations. */
  steps: number;
  /** Called after step i (0-based) of n, which evaluated the model at timestep t. */
  onStep?(i: number, n: number, t: number): void;
  /** Cancels between steps by throwing {@link AbortError}. */
  signal?: AbortSignalLike;
  /** What the model returns; default 'v'. */
  prediction?: PredictionType;
  /** Explicit evaluation timesteps (descending), overriding the sampler's own spacing; length must equal `steps`. */
  timesteps?: readonly number[];
}

/** Thrown when a sampler (or tiled job) sees `signal.aborted`. */
export class AbortError extends Error {
  constructor(message = 'The operation was aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

export function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw new AbortError();
}

/** Validate and return the evaluation timesteps (descending, length = steps). */
export function resolveTimesteps(options: SamplerOptions, own: () => number[]): number[] {
  const { steps } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  const ts = options.timesteps ? [...options.timesteps] : own();
  if (ts.length !== steps) throw new RangeError(`expected ${steps} timesteps, got ${ts.length}`);
  for (const [i, t] of ts.entries()) {
    const before = ts[i - 1];
    if (before !== undefined && !(t < before)) throw new RangeError(`timesteps must be strictly descending: [${ts.join(', ')}]`);
  }
  const last = ts[ts.length - 1];
  if (last !== undefined && last < 0) throw new RangeError('timesteps must be ≥ 0');
  return ts;
}
