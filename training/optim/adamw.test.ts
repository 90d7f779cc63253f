import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AdamW, clipScaleFor } from './adamw.ts';
import { cloneParams, updateEma } from './ema.ts';
import { allFinite } from './variables.ts';

/** Scalar reference AdamW (optax order: clip → moments → bias-corrected step → decoupled decay). */
function refAdamW(p: number[], grads: number[][], cfg: { lr: number; b1: number; b2: number; eps: number; wd: number; clip: number }): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = [...p];
  grads.forEach((g, k) => {
    const t = k + 1;
    const norm = Math.sqrt(g.reduce((a, b) => a + b * b, 0));
    const s = norm > cfg.clip ? cfg.clip / norm : 1;
    for (let i = 0; i < x.length; i++) {
      const gi = g[i]! * s;
      m[i] = cfg.b1 * m[i]! + (1 - cfg.b1) * gi;
      v[i] = cfg.b2 * v[i]! + (1 - cfg.b2) * gi * gi;
      const mh = m[i]! / (1 - cfg.b1 ** t);
      const vh = v[i]! / (1 - cfg.b2 ** t);
      x[i] = x[i]! * (1 - cfg.lr * cfg.wd) - cfg.lr * (mh / (Math.sqrt(vh) + cfg.eps));
    }
  });
  return x;
}

describe('AdamW', () => {
  it('matches a scalar reference with clipping and decoupled decay', () => {
    const start = [0.5, -1.25, 2];
    const grads = [
      [3, 4, 0], // norm 5 → clipped to 1
      [0.1, -0.2, 0.05],
      [-0.3, 0.0, 0.7],
    ];
    const cfg = { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, clip: 1 };
    const p = tf.variable(tf.tensor1d(start));
    const opt = new AdamW(new Map([['w', p]]), { lr: cfg.lr, weightDecay: cfg.wd, clipNorm: cfg.clip });
    const reports = grads.map((g) => opt.apply(new Map([['w', tf.tensor1d(g)]])));
    expect(reports[0]!.gradNorm).toBeCloseTo(5, 5);
    expect(reports[0]!.clipScale).toBeCloseTo(0.2, 6);
    const want = refAdamW(start, grads, cfg);
    const got = Array.from(p.dataSync());
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
    expect(opt.step).toBe(3);
  });

  it('round-trips its state so a restored optimizer continues identically', () => {
    const mk = () => tf.variable(tf.tensor1d([1, 2, 3]));
    const a = mk();
    const optA = new AdamW(new Map([['w', a]]), { lr: 0.05 });
    optA.apply({ w: tf.tensor1d([0.3, -0.1, 0.2]) });
    const saved = optA.getState();
    const b = tf.variable(a.clone());
    const optB = new AdamW(new Map([['w', b]]), { lr: 0.05 });
    optB.setState(saved);
    const g = tf.tensor1d([-0.2, 0.4, 0.1]);
    optA.apply({ w: g });
    optB.apply({ w: g });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
  });

  it('refuses a missing gradient', () => {
    const opt = new AdamW(new Map([['w', tf.variable(tf.zeros([2]))]]));
    expect(() => opt.apply({})).toThrow(/no gradient/);
  });

  it('clip scale is 1 below the threshold and for a disabled clip', () => {
    expect(clipScaleFor(0.5, 1)).toBe(1);
    expect(clipScaleFor(4, null)).toBe(1);
    expect(clipScaleFor(4, 2)).toBe(0.5);
  });
});

describe('EMA', () => {
  it('moves toward the online weights by (1 − γ) per update', () => {
    const p = tf.variable(tf.tensor1d([0, 10]));
    const params = new Map([['w', p]]);
    const ema = cloneParams(params);
    p.assign(tf.tensor1d([1, 0]));
    updateEma(ema, params, 0.9);
    const e = Array.from(ema.get('w')!.dataSync());
    expect(e[0]).toBeCloseTo(0.1, 6);
    expect(e[1]).toBeCloseTo(9, 5);
    // The clone is independent of later writes to the online weights.
    p.assign(tf.tensor1d([5, 5]));
    expect(Array.from(ema.get('w')!.dataSync())[0]).toBeCloseTo(0.1, 6);
  });

  it('allFinite flags NaN and Inf', () => {
    expect(allFinite([tf.tensor1d([1, 2])])).toBe(true);
    expect(allFinite([tf.tensor1d([1, Number.NaN])])).toBe(false);
    expect(allFinite([tf.tensor1d([Number.POSITIVE_INFINITY])])).toBe(false);
  });
});

describe('AdamW NaN guard', () => {
  it('skips an update whose gradients are not finite', () => {
    const p = tf.variable(tf.tensor1d([1, 2]));
    const opt = new AdamW(new Map([['w', p]]));
    const r = opt.apply({ w: tf.tensor1d([Number.NaN, 0]) });
    expect(r.applied).toBe(false);
    expect(opt.step).toBe(0);
    expect(Array.from(p.dataSync())).toEqual([1, 2]);
  });
});

describe('AdamW per-parameter LR scale', () => {
  it('moves a scaled parameter proportionally further', () => {
    const a = tf.variable(tf.tensor1d([0]));
    const b = tf.variable(tf.tensor1d([0]));
    const opt = new AdamW(new Map([['a', a], ['b', b]]), { lr: 0.01, weightDecay: 0 }, new Map([['b', 5]]));
    opt.apply({ a: tf.tensor1d([0.3]), b: tf.tensor1d([0.3]) });
    expect(a.dataSync()[0]).toBeCloseTo(-0.01, 6);
    expect(b.dataSync()[0]).toBeCloseTo(-0.05, 6);
  });
});
