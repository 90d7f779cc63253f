/** One entry point for the manifest's sampler kinds ('codi' | 'codi-renoise' | 'ddim' | 'dpmpp-2m'). */
import type { SamplerDefaults } from '../packs/manifest.ts';
import type { TensorOps } from '../tensor/ops.ts';
import type { Schedule } from '../math/schedule.ts';
import type { Rng } from '../rng.ts';
import type { DenoiseFn } from './common.ts';
import type { CodiSamplerOptions } from './codi.ts';
import type { DdimSamplerOptions } from './ddim.ts';
import type { DpmSolverOptions } from './dpmpp2m.ts';
import { sampleCodi } from './codi.ts';
import { sampleDdim } from './ddim.ts';
import { sampleDpmpp2m } from './dpmpp2m.ts';

export type SamplerKind = SamplerDefaults['kind'];

/** Union of every sampler's options; each sampler reads the fields it knows. */
export type AnySamplerOptions = CodiSamplerOptions & DdimSamplerOptions & DpmSolverOptions & { rng?: Rng };

/** Run the sampler named by `kind` ('codi-renoise' = sampleCodi with renoise: true, needs rng). */
export function runSampler<T>(
  kind: SamplerKind,
  ops: TensorOps<T>,
  model: DenoiseFn<T>,
  noise: T,
  sched: Schedule,
  options: AnySamplerOptions,
): Promise<T> {
  switch (kind) {
    case 'codi':
      return sampleCodi(ops, model, noise, sched, { ...options, renoise: false });
    case 'codi-renoise':
      return sampleCodi(ops, model, noise, sched, { ...options, renoise: true });
    case 'ddim':
      return sampleDdim(ops, model, noise, sched, options);
    case 'dpmpp-2m':
      return sampleDpmpp2m(ops, model, noise, sched, options);
  }
}

export { AbortError } from './common.ts';
export type { AbortSignalLike, DenoiseFn, SamplerOptions } from './common.ts';
export { codiTimesteps, lcmTimesteps, ddimTimesteps, dpmTimeUniform } from './timesteps.ts';
export { sampleCodi, sampleDdim, sampleDpmpp2m };
export type { CodiSamplerOptions, DdimSamplerOptions, DpmSolverOptions };
