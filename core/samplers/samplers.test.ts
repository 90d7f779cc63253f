import { describe, it, expect } from 'vitest';
import { at } from '../at.ts';
import { f32Ops, f32Tensor } from '../tensor/ops.ts';
import type { F32Tensor, TensorOps } from '../tensor/ops.ts';
import { defaultSchedule } from '../math/schedule.ts';
import type { Schedule } from '../math/schedule.ts';
import { boundaryScalings } from '../math/boundary.ts';
import { Rng } from '../rng.ts';
import { AbortError } from './common.ts';
import type { DenoiseFn } from './common.ts';
import { sampleCodi } from './codi.ts';
import { sampleDdim } from './ddim.ts';
import { sampleDpmpp2m } from './dpmpp2m.ts';
import { runSampler } from './index.ts';
import type { SamplerKind } from './index.ts';

const sched = defaultSchedule();

/** Tracks live tensors created through ops so leaks show up (what TF.js would leak). */
function trackingOps(): TensorOps<F32Tensor> & { live: Set<F32Tensor> } {
  const live = new Set<F32Tensor>();
  const wrap =
    <A extends unknown[]>(f: (...a: A) => F32Tensor) =>
    (...a: A) => {
      const r = f(...a);
      live.add(r);
      return r;
    };
  return {
    live,
    add: wrap(f32Ops.add),
    sub: wrap(f32Ops.sub),
    mul: wrap(f32Ops.mul),
    scale: wrap(f32Ops.scale),
    axpby: wrap(f32Ops.axpby),
    randnLike: wrap(f32Ops.randnLike),
    zerosLike: wrap(f32Ops.zerosLike),
    clone: wrap(f32Ops.clone),
    dispose: (x) => {
      if (!live.delete(x)) throw new Error('dispose of a tensor not created by ops (or twice)');
    },
  };
}

/** v of the single-point data distribution x0: ε = (z − α x0)/σ, v = α ε − σ x0. */
function oracle(ops: TensorOps<F32Tensor>, x0: F32Tensor, s: Schedule, calls?: number[]): DenoiseFn<F32Tensor> {
  return async (z, t) => {
    calls?.push(t);
    const a = s.alphaAt(t);
    const sg = s.sigmaAt(t);
    const eps = ops.axpby(1 / sg, z, -a / sg, x0);
    const v = ops.axpby(a, eps, -sg, x0);
    ops.dispose(eps);
    return v;
  };
}

function data(n: number, seed: number): F32Tensor {
  const r = new Rng(seed);
  const t = f32Tensor([1, 3, 2, n]);
  for (let i = 0; i < t.data.length; i++) t.data[i] = r.uniform() * 2 - 1;
  return t;
}
const maxAbsDiff = (a: F32Tensor, b: F32Tensor) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - at(b.data, i))), 0);

describe('every sampler returns x0 for the oracle model, without leaking tensors', () => {
  const x0 = data(4, 1);
  const noise = f32Ops.randnLike(x0, new Rng(2));
  const cases: [SamplerKind, number][] = [];
  for (const k of ['codi', 'codi-renoise', 'ddim', 'dpmpp-2m'] as const) for (const n of [1, 2, 3, 4, 7]) cases.push([k, n]);
  for (const k of ['ddim', 'dpmpp-2m'] as const) cases.push([k, 8], [k, 20]);
  it.each(cases)('%s, %i steps', async (kind, steps) => {
    const ops = trackingOps();
    const calls: number[] = [];
    const seen: number[] = [];
    const out = await runSampler(kind, ops, oracle(ops, x0, sched, calls), noise, sched, {
      steps,
      rng: new Rng(3),
      onStep: (i, n, t) => {
        expect(n).toBe(steps);
        expect(i).toBe(seen.length);
        seen.push(t);
      },
    });
    expect(maxAbsDiff(out, x0)).toBeLessThan(2e-5);
    expect(calls).toHaveLength(steps);
    expect(seen).toEqual(calls);
    expect([...ops.live]).toEqual([out]); // only the result survives
    expect(noise.data[0]).toBe(f32Ops.randnLike(x0, new Rng(2)).data[0]); // input untouched
  });
});

describe('CoDi with 8 steps on the N = 50 grid', () => {
  it('the 8th evaluation is at t = 0, where c_skip = 1 makes it the identity: output is z_0 = α_0 x0 + σ_0 ε (released behaviour)', async () => {
    const x0 = data(4, 1);
    const noise = f32Ops.randnLike(x0, new Rng(2));
    const calls: number[] = [];
    const out = await sampleCodi(f32Ops, oracle(f32Ops, x0, sched, calls), noise, sched, { steps: 8 });
    expect(calls[7]).toBe(0);
    // the oracle's ε is fixed by the start: ε = (z_980 − α_980 x0)/σ_980, and DDIM keeps it
    const eps = f32Ops.axpby(1 / sched.sigmaAt(980), noise, -sched.alphaAt(980) / sched.sigmaAt(980), x0);
    const expected = f32Ops.axpby(sched.alphaAt(0), x0, sched.sigmaAt(0), eps);
    expect(maxAbsDiff(out, expected)).toBeLessThan(2e-5);
  });
});

describe('hand-computed single steps', () => {
  const z = f32Tensor([2], Float32Array.from([0.3, -1.2]));
  const vConst: DenoiseFn<F32Tensor> = () => f32Tensor([2], Float32Array.from([0.5, 0.1]));
  const [a, s] = [0.07644, 0.99707]; // t = 980 (docs/method.md §2)

  it('CoDi 1 step (980 → 0), final "z0": α_0 x̂ + σ_0 ε̂ with x̂ boundary-scaled', async () => {
    const out = await sampleCodi(f32Ops, vConst, z, sched, { steps: 1, final: 'z0' });
    const { cSkip, cOut } = boundaryScalings(980);
    const want = Array.from(z.data, (zi, i) => {
      const vi = at([0.5, 0.1], i);
      const xh = cSkip * zi + cOut * (a * zi - s * vi);
      const eh = a * vi + s * zi;
      return 0.99957 * xh + 0.02915 * eh;
    });
    want.forEach((w, i) => expect(out.data[i]).toBeCloseTo(w, 4));
  });
  it('CoDi 1 step, default "denoised" returns x̂ = α z − σ v (c_out(980) ≈ 1)', async () => {
    const out = await sampleCodi(f32Ops, vConst, z, sched, { steps: 1 });
    expect(out.data[0]).toBeCloseTo(a * 0.3 - s * 0.5, 4);
    expect(out.data[1]).toBeCloseTo(a * -1.2 - s * 0.1, 4);
  });
  it('CoDi 2 steps deterministic: 980 → 480 → x̂', async () => {
    const calls: number[] = [];
    const model: DenoiseFn<F32Tensor> = (_z, t) => {
      calls.push(t);
      return f32Tensor([2], Float32Array.from([0.5, 0.1]));
    };
    const out = await sampleCodi(f32Ops, model, z, sched, { steps: 2 });
    expect(calls).toEqual([980, 480]);
    const [a2, s2] = [sched.alphaAt(480), sched.sigmaAt(480)];
    const b1 = boundaryScalings(980);
    const b2 = boundaryScalings(480);
    const res = Array.from(z.data, (zi, i) => {
      const vi = at([0.5, 0.1], i);
      const x1 = b1.cSkip * zi + b1.cOut * (a * zi - s * vi);
      const e1 = a * vi + s * zi;
      const z1 = a2 * x1 + s2 * e1;
      return b2.cSkip * z1 + b2.cOut * (a2 * z1 - s2 * vi);
    });
    res.forEach((r, i) => expect(out.data[i]).toBeCloseTo(r, 5));
  });
  it('CoDi re-noise is deterministic given the rng and uses fresh noise', async () => {
    const x0 = data(3, 9);
    const bad: DenoiseFn<F32Tensor> = (zz) => f32Ops.scale(zz, 0.3); // not the oracle: trajectory depends on ξ
    const noise = f32Ops.randnLike(x0, new Rng(4));
    const r1 = await sampleCodi(f32Ops, bad, noise, sched, { steps: 4, renoise: true, rng: new Rng(5) });
    const r2 = await sampleCodi(f32Ops, bad, noise, sched, { steps: 4, renoise: true, rng: new Rng(5) });
    const r3 = await sampleCodi(f32Ops, bad, noise, sched, { steps: 4, renoise: true, rng: new Rng(6) });
    const det = await sampleCodi(f32Ops, bad, noise, sched, { steps: 4 });
    expect(Array.from(r1.data)).toEqual(Array.from(r2.data));
    expect(maxAbsDiff(r1, r3)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(r1, det)).toBeGreaterThan(1e-3);
    await expect(sampleCodi(f32Ops, bad, noise, sched, { steps: 2, renoise: true })).rejects.toThrow(/rng/);
  });
  it('DDIM 1 step (trailing 999 → clean) returns x̂', async () => {
    const out = await sampleDdim(f32Ops, vConst, z, sched, { steps: 1 });
    expect(out.data[0]).toBeCloseTo(0.06826 * 0.3 - 0.99767 * 0.5, 4);
  });
  it('DDIM without set_alpha_to_one ends at ᾱ_0', async () => {
    const out = await sampleDdim(f32Ops, vConst, z, sched, { steps: 1, setAlphaToOne: false });
    const xh = 0.06826 * 0.3 - 0.99767 * 0.5;
    const eh = 0.06826 * 0.5 + 0.99767 * 0.3;
    expect(out.data[0]).toBeCloseTo(0.99957 * xh + 0.02915 * eh, 4);
  });
  it('DPM-Solver++(2M) 2 steps by hand (second step first order because of σ = 0 final)', async () => {
    const calls: number[] = [];
    const model: DenoiseFn<F32Tensor> = (_z, t) => {
      calls.push(t);
      return f32Tensor([2], Float32Array.from([0.5, 0.1]));
    };
    const out = await sampleDpmpp2m(f32Ops, model, z, sched, { steps: 2 });
    expect(calls[0]).toBe(999);
    expect(calls[1]).toBeCloseTo(499.5, 9);
    // step 1: z1 = (σ1/σ0) z − α1 (e^{−h} − 1) x̂0, then step 2 returns x̂1 = α1 z1 − σ1 v
    const [a0, s0] = [sched.alphaAt(999), sched.sigmaAt(999)];
    const a1 = sched.alphaAt(499.5);
    const s1 = Math.sqrt(1 - a1 * a1);
    const h = Math.log(a1 / s1) - Math.log(a0 / s0);
    z.data.forEach((zi, i) => {
      const vi = at([0.5, 0.1], i);
      const x0 = a0 * zi - s0 * vi;
      const z1 = (s1 / s0) * zi - a1 * Math.expm1(-h) * x0;
      expect(out.data[i]).toBeCloseTo(a1 * z1 - s1 * vi, 5);
    });
  });
  it('DPM-Solver++(2M) second-order update by hand (3 steps, final on the grid)', async () => {
    const ts = [900, 600, 300];
    const vv = [[0.5, 0.1], [0.2, -0.3], [0.05, 0.4]];
    let k = 0;
    const model: DenoiseFn<F32Tensor> = () => f32Tensor([2], Float32Array.from(at(vv, k++)));
    const out = await sampleDpmpp2m(f32Ops, model, z, sched, { steps: 3, timesteps: ts, finalSigma: 'grid' });
    const A = (t: number) => sched.alphaAt(t);
    const S = (t: number) => sched.sigmaAt(t);
    const L = (t: number) => Math.log(A(t) / S(t));
    z.data.forEach((zi, i) => {
      const [v0, v1, v2] = [at(at(vv, 0), i), at(at(vv, 1), i), at(at(vv, 2), i)];
      const x0 = A(900) * zi - S(900) * v0;
      const z1 = (S(600) / S(900)) * zi - A(600) * Math.expm1(-(L(600) - L(900))) * x0;
      const x1 = A(600) * z1 - S(600) * v1;
      const h = L(300) - L(600);
      const r0 = (L(600) - L(900)) / h;
      const D1 = (x1 - x0) / r0;
      const phi = Math.expm1(-h);
      const z2 = (S(300) / S(600)) * z1 - A(300) * phi * x1 - 0.5 * A(300) * phi * D1;
      // last step: first order (steps < 10) from 300 to t = 0
      const x2 = A(300) * z2 - S(300) * v2;
      const z3 = (S(0) / S(300)) * z2 - A(0) * Math.expm1(-(L(0) - L(300))) * x2;
      expect(out.data[i]).toBeCloseTo(z3, 5);
    });
  });
});

describe('cancellation and validation', () => {
  it('throws AbortError between steps and leaks nothing', async () => {
    const ops = trackingOps();
    const x0 = data(2, 1);
    const signal = { aborted: false };
    const run = sampleCodi(ops, oracle(ops, x0, sched), x0, sched, {
      steps: 4,
      signal,
      onStep: (i) => {
        if (i === 1) signal.aborted = true;
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(ops.live.size).toBe(0);
  });
  it('a failing model call leaks nothing (DPM-Solver keeps x̂ history)', async () => {
    const ops = trackingOps();
    const x0 = data(2, 1);
    const good = oracle(ops, x0, sched);
    let k = 0;
    const flaky: DenoiseFn<F32Tensor> = (zz, t) => {
      if (++k === 3) throw new Error('boom');
      return good(zz, t);
    };
    await expect(sampleDpmpp2m(ops, flaky, x0, sched, { steps: 4 })).rejects.toThrow('boom');
    expect(ops.live.size).toBe(0);
  });
  it('rejects bad step counts and non-descending timesteps', async () => {
    const x0 = data(2, 1);
    const m = oracle(f32Ops, x0, sched);
    await expect(sampleDdim(f32Ops, m, x0, sched, { steps: 0 })).rejects.toThrow(RangeError);
    await expect(sampleDdim(f32Ops, m, x0, sched, { steps: 2, timesteps: [500, 700] })).rejects.toThrow(/descending/);
    await expect(sampleCodi(f32Ops, m, x0, sched, { steps: 8, distillSteps: 20 })).rejects.toThrow(RangeError);
  });
});
