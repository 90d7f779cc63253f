import { describe, it, expect } from 'vitest';
import { at } from '../at.ts';
import { f32Ops, f32Tensor } from '../tensor/ops.ts';
import type { F32Tensor } from '../tensor/ops.ts';
import { defaultSchedule, CLEAN_T } from './schedule.ts';
import { boundaryScalings } from './boundary.ts';
import {
  xFromV,
  epsFromV,
  vFromXEps,
  diffuse,
  xFromEps,
  epsFromX,
  vFromEps,
  vFromX,
  predictXEps,
  boundaryScale,
  ddimUpdate,
} from './parameterization.ts';

const ops = f32Ops;
const t1 = (...v: number[]): F32Tensor => f32Tensor([v.length], Float32Array.from(v));
const close = (a: F32Tensor, b: number[], digits = 5) => b.forEach((v, i) => expect(at(a.data, i)).toBeCloseTo(v, digits));

describe('v / x / ε conversions (docs/method.md §2)', () => {
  const a = 0.6;
  const s = 0.8; // α² + σ² = 1
  const x = t1(0.5, -1, 0.25);
  const e = t1(1, 0.3, -2);
  const z = diffuse(ops, x, e, a, s); // by hand: [0.3+0.8, -0.6+0.24, 0.15-1.6]
  it('z = α x + σ ε by hand', () => close(z, [1.1, -0.36, -1.45]));
  const v = vFromXEps(ops, x, e, a, s); // 0.6ε − 0.8x = [0.6−0.4, 0.18+0.8, −1.2−0.2]
  it('v = α ε − σ x by hand', () => close(v, [0.2, 0.98, -1.4]));
  it('x̂ = α z − σ v and ε̂ = α v + σ z recover x and ε', () => {
    close(xFromV(ops, z, v, a, s), [0.5, -1, 0.25]);
    close(epsFromV(ops, z, v, a, s), [1, 0.3, -2]);
  });
  it('ε-model and x-model conversions', () => {
    close(xFromEps(ops, z, e, a, s), [0.5, -1, 0.25]);
    close(epsFromX(ops, z, x, a, s), [1, 0.3, -2]);
    close(vFromEps(ops, z, e, a, s), [0.2, 0.98, -1.4]);
    close(vFromX(ops, z, x, a, s), [0.2, 0.98, -1.4]);
    for (const kind of ['v', 'epsilon', 'x'] as const) {
      const out = kind === 'v' ? v : kind === 'epsilon' ? e : x;
      const p = predictXEps(ops, kind, z, out, a, s);
      close(p.xHat, [0.5, -1, 0.25]);
      close(p.epsHat, [1, 0.3, -2]);
    }
  });
  it('boundary scale c_skip z + c_out x̂', () => {
    const b = boundaryScalings(20);
    close(boundaryScale(ops, z, x, 20), Array.from(z.data, (zi, i) => b.cSkip * zi + b.cOut * at(x.data, i)), 6);
    close(boundaryScale(ops, z, x, 0), Array.from(z.data), 7);
  });
});

describe('ddimUpdate', () => {
  const sched = defaultSchedule();
  const x = t1(0.5, -0.5);
  const e = t1(-1, 2);
  const t = 720;
  const s = 460;
  const z = diffuse(ops, x, e, sched.alphaAt(t), sched.sigmaAt(t));
  const v = vFromXEps(ops, x, e, sched.alphaAt(t), sched.sigmaAt(t));
  const [z0, z1] = [at(z.data, 0), at(z.data, 1)];
  it('with the exact v, z_s = α_s x + σ_s ε (hand values from §2 table)', () => {
    const r = ddimUpdate(ops, z, v, t, s, sched);
    close(r.xHat, [0.5, -0.5]);
    close(r.epsHat, [-1, 2]);
    // α_460 = 0.57646, σ_460 = 0.81713
    close(r.zS, [0.57646 * 0.5 - 0.81713, -0.57646 * 0.5 + 0.81713 * 2], 4);
  });
  it('true-ε variant (Eq. 14) uses the given ε, not ε̂', () => {
    const other = t1(0, 0);
    const r = ddimUpdate(ops, z, v, t, s, sched, { eps: other });
    close(r.zS, [0.57646 * 0.5, -0.57646 * 0.5], 4);
    close(r.epsHat, [-1, 2]);
  });
  it('boundary-scaled x̂ and the clean end', () => {
    const r = ddimUpdate(ops, z, v, t, CLEAN_T, sched, { boundary: 'lcm' });
    const b = boundaryScalings(t);
    close(r.xHat, [b.cSkip * z0 + b.cOut * 0.5, b.cSkip * z1 - b.cOut * 0.5], 6);
    close(r.zS, Array.from(r.xHat.data), 7);
  });
  it('a hand-computed step with an arbitrary v = [1, 0]', () => {
    const vv = t1(1, 0);
    const r = ddimUpdate(ops, z, vv, t, s, sched);
    const [aT, sT, aS, sS] = [sched.alphaAt(t), sched.sigmaAt(t), sched.alphaAt(s), sched.sigmaAt(s)];
    const [xh0, xh1] = [aT * z0 - sT, aT * z1];
    const [eh0, eh1] = [aT + sT * z0, sT * z1];
    close(r.zS, [aS * xh0 + sS * eh0, aS * xh1 + sS * eh1]);
  });
});
