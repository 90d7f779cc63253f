/**
 * Variance-preserving noise schedules: z_t = α_t·x + σ_t·ε with α_t² + σ_t² = 1
 * (docs/method.md §2). Tables are indexed by the integer DDPM timestep t ∈ {0..T−1}.
 */
import { at } from '../at.ts';
import type { NoiseScheduleSpec } from '../packs/manifest.ts';

/** A VP schedule with precomputed Float64 tables (length T). */
export interface Schedule {
  readonly kind: NoiseScheduleSpec['kind'];
  /** Number of training timesteps T (the model sees t ∈ {0..T−1}). */
  readonly T: number;
  readonly betas: Float64Array;
  /** ᾱ_t = Π_{i≤t} (1 − β_i). */
  readonly alphaBar: Float64Array;
  /** α_t = sqrt(ᾱ_t). */
  readonly alpha: Float64Array;
  /** σ_t = sqrt(1 − ᾱ_t). */
  readonly sigma: Float64Array;
  /**
   * α at a (possibly fractional) timestep. Integer t reads the table exactly; fractional t
   * interpolates log α linearly between neighbours (the DPM-Solver 'discrete' schedule);
   * t < 0 is the clean end (α = 1, σ = 0; diffusers' set_alpha_to_one).
   */
  alphaAt(t: number): number;
  /** σ matching {@link Schedule.alphaAt}: sqrt(1 − α²). */
  sigmaAt(t: number): number;
  /** Half log-SNR λ_t = log α_t − log σ_t (+∞ at the clean end). */
  lambdaAt(t: number): number;
}

/** Timestep meaning "fully denoised" (α = 1, σ = 0) for samplers' final targets. */
export const CLEAN_T = -1;

/** Default β range of Stable Diffusion's scaled-linear schedule. */
export const SD_BETA_START = 0.00085;
export const SD_BETA_END = 0.012;
/** Default β range of the DDPM linear schedule (Ho et al. 2020). */
export const DDPM_BETA_START = 0.0001;
export const DDPM_BETA_END = 0.02;
/** Cosine schedule offset s and β cap (Nichol & Dhariwal 2021). */
export const COSINE_S = 0.008;
export const COSINE_MAX_BETA = 0.999;

function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = a;
    return out;
  }
  const step = (b - a) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = a + i * step;
  out[n - 1] = b;
  return out;
}

/** β_t for a schedule spec (length T). */
export function makeBetas(spec: NoiseScheduleSpec): Float64Array {
  const T = spec.trainSteps;
  switch (spec.kind) {
    case 'scaled-linear': {
      // betas = linspace(sqrt(β_start), sqrt(β_end), T)²  (SD / diffusers "scaled_linear")
      return linspace(Math.sqrt(spec.betaStart ?? SD_BETA_START), Math.sqrt(spec.betaEnd ?? SD_BETA_END), T).map((b) => b * b);
    }
    case 'linear':
      return linspace(spec.betaStart ?? DDPM_BETA_START, spec.betaEnd ?? DDPM_BETA_END, T);
    case 'cosine': {
      // ᾱ(u) = f(u)/f(0), f(u) = cos²((u + s)/(1 + s)·π/2); β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), 0.999)
      const f = (u: number) => Math.cos(((u + COSINE_S) / (1 + COSINE_S)) * (Math.PI / 2)) ** 2;
      const b = new Float64Array(T);
      for (let i = 0; i < T; i++) b[i] = Math.min(1 - f((i + 1) / T) / f(i / T), COSINE_MAX_BETA);
      return b;
    }
  }
}

/** Build the schedule tables for a manifest `schedule` entry. */
export function makeSchedule(spec: NoiseScheduleSpec): Schedule {
  const T = spec.trainSteps;
  const betas = makeBetas(spec);
  const alphaBar = new Float64Array(T);
  const alpha = new Float64Array(T);
  const sigma = new Float64Array(T);
  const logAlpha = new Float64Array(T);
  let prod = 1;
  for (const [i, beta] of betas.entries()) {
    prod *= 1 - beta;
    alphaBar[i] = prod;
    alpha[i] = Math.sqrt(prod);
    sigma[i] = Math.sqrt(1 - prod);
    logAlpha[i] = 0.5 * Math.log(prod);
  }

  const alphaAt = (t: number): number => {
    if (t < 0) return 1;
    if (Number.isInteger(t)) {
      if (t >= T) throw new RangeError(`timestep ${t} outside [0, ${T - 1}]`);
      return at(alpha, t);
    }
    if (!(t <= T - 1)) throw new RangeError(`timestep ${t} outside [0, ${T - 1}]`);
    const i = Math.floor(t);
    const f = t - i;
    return Math.exp(at(logAlpha, i) * (1 - f) + at(logAlpha, i + 1) * f);
  };
  const sigmaAt = (t: number): number => {
    if (t < 0) return 0;
    if (Number.isInteger(t) && t < T) return at(sigma, t);
    const a = alphaAt(t);
    return Math.sqrt(1 - a * a);
  };
  const lambdaAt = (t: number): number => {
    if (t < 0) return Infinity;
    return Math.log(alphaAt(t)) - Math.log(sigmaAt(t));
  };

  return { kind: spec.kind, T, betas, alphaBar, alpha, sigma, alphaAt, sigmaAt, lambdaAt };
}

/** The project default: scaled-linear, T = 1000, β 0.00085 → 0.012 (CONVENTIONS.md). */
export function defaultSchedule(): Schedule {
  return makeSchedule({ kind: 'scaled-linear', trainSteps: 1000 });
}
