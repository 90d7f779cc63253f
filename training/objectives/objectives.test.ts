import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { boundaryScalings } from '../../core/math/boundary.ts';
import { defaultSchedule } from '../../core/math/schedule.ts';
import { Rng } from '../../core/rng.ts';
import { codiObjective } from './codi.ts';
import { cmObjective } from './cm.ts';
import { computeGradients } from './grads.ts';
import { timestepRuns } from './timestep-groups.ts';
import { distillTimesteps } from './timestep-sampling.ts';
import { vLossObjective } from './v-loss.ts';
import type { Denoiser } from './types.ts';

const sched = defaultSchedule();
const X = [0.3, -0.7, 0.1, 0.9]; // one sample, 1×1×4 latent, so every element is checked by hand
const xT = () => tf.tensor4d(X, [1, 1, 1, 4]);
const linear = (a: tf.Tensor | number): Denoiser => ({ z }) => tf.mul<tf.Tensor4D>(z, a);
const mean = (xs: number[]) => xs.reduce((p, q) => p + q, 0) / xs.length;

describe('timestep sampling', () => {
  it('draws i in 1..N−1 on the k grid, shared or per sample', () => {
    const rng = new Rng(1);
    for (let r = 0; r < 50; r++) {
      const { t, s } = distillTimesteps(rng, 4, 1000, 50, 'sharedPerBatch');
      expect(new Set(t).size).toBe(1);
      expect(t[0]! % 20).toBe(0);
      expect(t[0]).toBeGreaterThanOrEqual(20);
      expect(t[0]).toBeLessThanOrEqual(980);
      expect(s[0]).toBe(t[0]! - 20);
    }
    const many = distillTimesteps(new Rng(2), 64, 1000, 50, 'perSample');
    expect(new Set(many.t).size).toBeGreaterThan(10);
  });

  it('groups equal timesteps into runs', () => {
    expect(timestepRuns([5, 5, 7, 5])).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 3 },
      { start: 3, end: 4 },
    ]);
  });
});

describe('v-loss', () => {
  it('equals a hand computation for a linear model, value and gradient', () => {
    const a = tf.variable(tf.scalar(0.4));
    const obj = vLossObjective({ schedule: sched, model: linear(a) });
    const step = obj.prepare({ x: xT() }, new Rng(11));
    // replay the RNG: t first, then ε
    const rng = new Rng(11);
    const t = rng.int(0, 1000);
    const e = Array.from(rng.fillGaussian(new Float32Array(4)));
    expect(step.timesteps).toEqual([t]);
    const al = sched.alpha[t]!;
    const si = sched.sigma[t]!;
    const z = X.map((x, i) => al * x + si * e[i]!);
    const tgt = X.map((x, i) => al * e[i]! - si * x);
    const want = mean(z.map((zi, i) => (0.4 * zi - tgt[i]!) ** 2));
    const wantGrad = mean(z.map((zi, i) => 2 * (0.4 * zi - tgt[i]!) * zi));
    const g = computeGradients(step, new Map([['a', a]]));
    expect(g.total).toBeCloseTo(want, 5);
    expect(g.grads.get('a')!.dataSync()[0]).toBeCloseTo(wantGrad, 4);
    step.dispose();
  });
});

describe('CoDi objective', () => {
  it('matches a hand computation; the ODE step and the EMA target carry no gradient', () => {
    const aVal = 0.6;
    const bVal = -0.2; // EMA target is a different network
    const a = tf.variable(tf.scalar(aVal));
    const obj = codiObjective({ schedule: sched, online: linear(a), target: linear(bVal) });
    const seed = 5;
    const step = obj.prepare({ x: xT() }, new Rng(seed));
    const rng = new Rng(seed);
    const i = rng.int(1, 50);
    const e = Array.from(rng.fillGaussian(new Float32Array(4)));
    const t = i * 20;
    const s = (i - 1) * 20;
    expect(step.timesteps).toEqual([t]);
    const [at, st, as, ss] = [sched.alpha[t]!, sched.sigma[t]!, sched.alpha[s]!, sched.sigma[s]!];
    const bt = boundaryScalings(t);
    const bs = boundaryScalings(s);
    const z = X.map((x, k) => at * x + st * e[k]!);
    const xh = z.map((zk) => at * zk - st * aVal * zk); // ODE with the adapted (online) model
    const zs = xh.map((xk, k) => as * xk + ss * e[k]!); // true ε (Eq. 14)
    const Em = zs.map((zk) => bs.cSkip * zk + bs.cOut * (as * bVal * zk + ss * zk));
    const E = z.map((zk) => bt.cSkip * zk + bt.cOut * (at * aVal * zk + st * zk));
    const Xo = z.map((zk) => bt.cSkip * zk + bt.cOut * (at * zk - st * aVal * zk));
    const cons = mean(E.map((v, k) => (v - Em[k]!) ** 2));
    const dx = mean(Xo.map((v, k) => (v - X[k]!) ** 2));
    // gradient through the online branch only (ẑ_s and E⁻ are constants)
    const grad = mean(z.map((zk, k) => 2 * (E[k]! - Em[k]!) * bt.cOut * at * zk + 2 * (Xo[k]! - X[k]!) * -bt.cOut * st * zk));
    const g = computeGradients(step, new Map([['a', a]]));
    expect(g.terms.consistency).toBeCloseTo(cons, 5);
    expect(g.terms.dx).toBeCloseTo(dx, 5);
    expect(g.total).toBeCloseTo(cons + dx, 5);
    expect(g.grads.get('a')!.dataSync()[0]).toBeCloseTo(grad, 4);
    step.dispose();
  });

  it("without PF-ODE distillation (odeModel 'none') the target is taken at the forward process α_s x + σ_s ε", () => {
    const aVal = 0.6;
    const bVal = -0.2;
    const a = tf.variable(tf.scalar(aVal));
    const obj = codiObjective({ schedule: sched, online: linear(a), target: linear(bVal), switches: { odeModel: 'none' } });
    const seed = 5;
    const step = obj.prepare({ x: xT() }, new Rng(seed));
    const rng = new Rng(seed);
    const i = rng.int(1, 50);
    const e = Array.from(rng.fillGaussian(new Float32Array(4)));
    const [t, s] = [i * 20, (i - 1) * 20];
    const [at, st, as, ss] = [sched.alpha[t]!, sched.sigma[t]!, sched.alpha[s]!, sched.sigma[s]!];
    const bt = boundaryScalings(t);
    const bs = boundaryScalings(s);
    const z = X.map((x, k) => at * x + st * e[k]!);
    const zs = X.map((x, k) => as * x + ss * e[k]!); // no model in ẑ_s
    const Em = zs.map((zk) => bs.cSkip * zk + bs.cOut * (as * bVal * zk + ss * zk));
    const E = z.map((zk) => bt.cSkip * zk + bt.cOut * (at * aVal * zk + st * zk));
    const g = computeGradients(step, new Map([['a', a]]));
    expect(g.terms.consistency).toBeCloseTo(mean(E.map((v, k) => (v - Em[k]!) ** 2)), 5);
    // and it differs from the paper's default, whose ẑ_s goes through the adapted model's ODE step
    const paper = codiObjective({ schedule: sched, online: linear(a), target: linear(bVal) }).prepare({ x: xT() }, new Rng(seed));
    expect(Math.abs(computeGradients(paper, new Map([['a', a]])).terms.consistency! - g.terms.consistency!)).toBeGreaterThan(1e-4);
    paper.dispose();
    step.dispose();
  });

  /** The exact v of a data distribution concentrated on x0: x̂ ≡ x0 ⇒ v = (α z − x0)/σ. */
  function oracle(x0: tf.Tensor): Denoiser {
    const alpha = tf.tensor1d(Array.from(sched.alpha, Number), 'float32');
    const sigma = tf.tensor1d(Array.from(sched.sigma, Number), 'float32');
    return ({ z, t }) =>
      tf.tidy(() => {
        const idx = tf.cast(t, 'int32');
        const a = tf.gather(alpha, idx).reshape([-1, 1, 1, 1]);
        const s = tf.gather(sigma, idx).reshape([-1, 1, 1, 1]);
        return tf.div<tf.Tensor4D>(tf.sub(tf.mul(a, z), x0), s);
      });
  }

  it('consistency vanishes for an oracle model (s ≥ k), in both spaces, for both ODE ε choices', () => {
    const x0 = tf.tensor4d(Array.from({ length: 2 * 2 * 2 * 3 }, (_, k) => Math.sin(k)), [2, 2, 2, 3]);
    const m = oracle(x0);
    let checked = 0;
    for (const consistencySpace of ['eps', 'x'] as const) {
      for (const odeEps of ['true', 'predicted'] as const) {
        const obj = codiObjective({ schedule: sched, online: m, target: m, switches: { consistencySpace, odeEps } });
        for (let seed = 0; seed < 8; seed++) {
          const step = obj.prepare({ x: x0 }, new Rng(seed));
          const { terms } = step.loss();
          const c = terms.consistency!.dataSync()[0]!;
          if (step.timesteps[0]! >= 40) {
            expect(c).toBeLessThan(1e-8);
            checked++;
          }
          expect(terms.dx!.dataSync()[0]).toBeLessThan(1e-6);
          step.dispose();
        }
      }
    }
    expect(checked).toBeGreaterThan(8);
    // A wrong model is far from consistent: the test can fail.
    const wrong = codiObjective({ schedule: sched, online: linear(0.5), target: m });
    const step = wrong.prepare({ x: x0 }, new Rng(3));
    expect(step.loss().terms.consistency!.dataSync()[0]).toBeGreaterThan(1e-3);
  });

  it("uses the pretrained model for the ODE when odeModel = 'pretrained'", () => {
    const x = xT();
    const run = (pre: number) => {
      const obj = codiObjective({
        schedule: sched,
        online: linear(0.3),
        target: linear(0.1),
        pretrained: linear(pre),
        switches: { odeModel: 'pretrained' },
      });
      const step = obj.prepare({ x }, new Rng(9));
      const c = step.loss().terms.consistency!.dataSync()[0]!;
      step.dispose();
      return c;
    };
    expect(run(0.2)).not.toBeCloseTo(run(-0.9), 4);
    expect(() => codiObjective({ schedule: sched, online: linear(1), target: linear(1), switches: { odeModel: 'pretrained' } })).toThrow();
  });
});

describe('CM objective', () => {
  it('matches a hand computation (teacher DDIM step, x-space, no data term)', () => {
    const a = tf.variable(tf.scalar(0.25));
    const obj = cmObjective({ schedule: sched, online: linear(a), target: linear(0.1), teacher: linear(0.5) });
    const step = obj.prepare({ x: xT() }, new Rng(21));
    const rng = new Rng(21);
    const i = rng.int(1, 50);
    const e = Array.from(rng.fillGaussian(new Float32Array(4)));
    const t = i * 20;
    const s = t - 20;
    const [at, st, as, ss] = [sched.alpha[t]!, sched.sigma[t]!, sched.alpha[s]!, sched.sigma[s]!];
    const bt = boundaryScalings(t);
    const bs = boundaryScalings(s);
    const z = X.map((x, k) => at * x + st * e[k]!);
    const zs = z.map((zk) => as * (at * zk - st * 0.5 * zk) + ss * (at * 0.5 * zk + st * zk));
    const Xm = zs.map((zk) => bs.cSkip * zk + bs.cOut * (as * zk - ss * 0.1 * zk));
    const Xo = z.map((zk) => bt.cSkip * zk + bt.cOut * (at * zk - st * 0.25 * zk));
    const want = mean(Xo.map((v, k) => (v - Xm[k]!) ** 2));
    const g = computeGradients(step, new Map([['a', a]]));
    expect(g.total).toBeCloseTo(want, 5);
    expect(Object.keys(g.terms)).toEqual(['consistency']);
    step.dispose();
  });
});
