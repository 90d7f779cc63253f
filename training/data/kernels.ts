/**
 * Blur kernels of the Real-ESRGAN degradation model (Wang et al. 2021, §3.2), written from the
 * formulas: for a covariance Σ = R(θ) diag(σx², σy²) R(θ)ᵀ and q(x) = xᵀ Σ⁻¹ x,
 * - Gaussian:             k ∝ exp(−q/2)
 * - generalised Gaussian: k ∝ exp(−½ q^β)
 * - plateau:              k ∝ 1 / (1 + q^β)
 * - 2-D sinc (ideal circular low-pass, cutoff ω_c): k(r) ∝ ω_c J₁(ω_c r) / (2π r)
 * All kernels are square, odd-sized, centred and normalised to sum 1.
 */
import type { Rng } from '../../core/rng.ts';

/** Square kernel, row-major, `size` odd. */
export interface Kernel {
  size: number;
  data: Float32Array;
}

export type KernelType = 'iso' | 'aniso' | 'generalized_iso' | 'generalized_aniso' | 'plateau_iso' | 'plateau_aniso';
export const KERNEL_TYPES: readonly KernelType[] = ['iso', 'aniso', 'generalized_iso', 'generalized_aniso', 'plateau_iso', 'plateau_aniso'];

/** Shape parameters of one anisotropic kernel. */
export interface KernelShape {
  sigmaX: number;
  sigmaY: number;
  /** rotation in radians */
  theta: number;
  /** 0 for Gaussian; the β exponent for generalised / plateau */
  beta: number;
  family: 'gaussian' | 'generalized' | 'plateau';
}

function normalise(data: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i] as number;
  if (!(s > 0)) throw new RangeError('kernel sums to zero');
  for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) / s;
  return data;
}

/** Evaluate a Gaussian-family kernel on a size × size grid centred at 0. */
export function shapedKernel(size: number, shape: KernelShape): Kernel {
  if (size % 2 !== 1) throw new RangeError(`kernel size must be odd, got ${size}`);
  const { sigmaX, sigmaY, theta, beta, family } = shape;
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  // Σ⁻¹ = R diag(1/σx², 1/σy²) Rᵀ
  const ix = 1 / (sigmaX * sigmaX);
  const iy = 1 / (sigmaY * sigmaY);
  const a = c * c * ix + s * s * iy;
  const b = c * s * (ix - iy);
  const d = s * s * ix + c * c * iy;
  const half = (size - 1) / 2;
  const data = new Float32Array(size * size);
  for (let yi = 0; yi < size; yi++) {
    const y = yi - half;
    for (let xi = 0; xi < size; xi++) {
      const x = xi - half;
      const q = a * x * x + 2 * b * x * y + d * y * y;
      let v: number;
      if (family === 'gaussian') v = Math.exp(-0.5 * q);
      else if (family === 'generalized') v = Math.exp(-0.5 * Math.pow(q, beta));
      else v = 1 / (1 + Math.pow(q, beta));
      data[yi * size + xi] = v;
    }
  }
  return { size, data: normalise(data) };
}

/** Bessel function of the first kind, order 1, via J₁(x) = (1/π)∫₀^π cos(τ − x sin τ) dτ
 * (the trapezoid rule on this periodic integrand converges geometrically). */
export function besselJ1(x: number): number {
  const n = 96;
  let acc = 0;
  for (let i = 0; i <= n; i++) {
    const tau = (Math.PI * i) / n;
    const w = i === 0 || i === n ? 0.5 : 1;
    acc += w * Math.cos(tau - x * Math.sin(tau));
  }
  return acc / n;
}

/** Circular low-pass (2-D sinc) kernel with cutoff `omegaC` (radians per pixel). */
export function sincKernel(size: number, omegaC: number): Kernel {
  if (size % 2 !== 1) throw new RangeError(`kernel size must be odd, got ${size}`);
  const half = (size - 1) / 2;
  const data = new Float32Array(size * size);
  for (let yi = 0; yi < size; yi++) {
    for (let xi = 0; xi < size; xi++) {
      const r = Math.hypot(xi - half, yi - half);
      // limit r → 0 of ω J₁(ω r)/(2π r) is ω²/(4π)
      data[yi * size + xi] = r === 0 ? (omegaC * omegaC) / (4 * Math.PI) : (omegaC * besselJ1(omegaC * r)) / (2 * Math.PI * r);
    }
  }
  return { size, data: normalise(data) };
}

/** The identity (pulse) kernel. */
export function pulseKernel(size = 1): Kernel {
  const data = new Float32Array(size * size);
  data[(size * size - 1) / 2] = 1;
  return { size, data };
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

/** Draw β the way Real-ESRGAN does: half the time below 1, half above. */
function drawBeta(rng: Rng, range: readonly [number, number]): number {
  return rng.uniform() < 0.5 ? uniform(rng, range[0], 1) : uniform(rng, 1, range[1]);
}

/** Parameters for drawing a random blur kernel. */
export interface KernelDrawSpec {
  types: readonly KernelType[];
  probs: readonly number[];
  sigma: readonly [number, number];
  betaG: readonly [number, number];
  betaP: readonly [number, number];
}

/** Pick an index from a discrete distribution. */
export function choice(rng: Rng, probs: readonly number[]): number {
  let total = 0;
  for (const p of probs) total += p;
  let u = rng.uniform() * total;
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i] as number;
    if (u < 0) return i;
  }
  return probs.length - 1;
}

export function drawShape(rng: Rng, spec: KernelDrawSpec): KernelShape {
  const type = spec.types[choice(rng, spec.probs)] as KernelType;
  const iso = type.endsWith('iso') && !type.endsWith('aniso');
  const sigmaX = uniform(rng, spec.sigma[0], spec.sigma[1]);
  const sigmaY = iso ? sigmaX : uniform(rng, spec.sigma[0], spec.sigma[1]);
  const theta = iso ? 0 : uniform(rng, -Math.PI, Math.PI);
  if (type === 'iso' || type === 'aniso') return { sigmaX, sigmaY, theta, beta: 0, family: 'gaussian' };
  if (type.startsWith('generalized')) return { sigmaX, sigmaY, theta, beta: drawBeta(rng, spec.betaG), family: 'generalized' };
  return { sigmaX, sigmaY, theta, beta: drawBeta(rng, spec.betaP), family: 'plateau' };
}

/** Odd kernel sizes 7, 9, …, maxSize (Real-ESRGAN's `kernel_range`). */
export function drawKernelSize(rng: Rng, maxSize: number): number {
  const options = (maxSize - 7) / 2 + 1;
  return 7 + 2 * rng.int(0, Math.max(1, Math.floor(options)));
}

/** Real-ESRGAN's stage blur: a sinc with probability `sincProb`, else a shaped kernel. */
export function drawBlurKernel(rng: Rng, spec: KernelDrawSpec, maxSize: number, sincProb: number): Kernel {
  const size = drawKernelSize(rng, maxSize);
  if (rng.uniform() < sincProb) {
    // small kernels cannot represent a very low cutoff without ringing
    const omega = size < 13 ? uniform(rng, Math.PI / 3, Math.PI) : uniform(rng, Math.PI / 5, Math.PI);
    return sincKernel(size, omega);
  }
  return shapedKernel(size, drawShape(rng, spec));
}
