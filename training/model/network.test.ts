import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { NetConfig } from '../../core/nn/config.ts';
import { defaultNetConfig } from '../../core/nn/config.ts';
import {
  adapterOptions,
  completeAdapterRecord,
  createAdapter,
  createBackbone,
  disposeParams,
  forwardAdapter,
  forwardBackbone,
  forwardModel,
  paramCount,
  paramsFromRecord,
  paramsToRecord,
} from './network.ts';

const tiny: NetConfig = { ...defaultNetConfig, baseChannels: 8, groups: 4, timeDim: 16, embDim: 32, condHidden: 8, attention: true };
const opts = { condChannels: 16, textDim: 8 };

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('TF.js network', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('a fresh adapter leaves the backbone exactly unchanged (μ = 0; shared layers copied)', () => {
    const bb = createBackbone(tiny, 1);
    const ad = createAdapter(tiny, bb, opts, 2);
    const z = tf.randomNormal<tf.Rank.R4>([2, 8, 12, 48], 0, 1, 'float32', 3);
    const t = tf.tensor1d([5, 700]);
    const cond = tf.randomNormal<tf.Rank.R4>([2, 8, 12, 16], 0, 1, 'float32', 4);
    const text = tf.randomNormal<tf.Rank.R2>([2, 8], 0, 1, 'float32', 5);

    const plain = forwardBackbone(tiny, bb, z, t);
    const adapted = forwardModel(tiny, { backbone: bb, adapter: ad }, { z, t, cond, text });
    expect(maxAbs(plain, adapted)).toBe(0);
    expect(tf.tidy(() => tf.max(tf.abs(plain)).dataSync()[0]!)).toBeGreaterThan(0.01);

    // The shared layers are copies, so with a zero condition the adapter features are the backbone's
    // encoder outputs: mixing them in at any μ changes nothing either.
    const zeroCond = tf.zerosLike(cond);
    const feats = forwardAdapter(tiny, ad, z, t, zeroCond, text);
    const mixedAny = forwardBackbone(tiny, bb, z, t, { features: feats.features, mu: tf.tensor1d([0.5, 1, 0.25]) });
    expect(maxAbs(plain, mixedAny)).toBeLessThan(1e-5);

    // ...while foreign features at μ ≠ 0 do change the output (the mix is wired in).
    const noise = feats.features.map((f) => tf.randomNormal<tf.Rank.R4>(f.shape, 0, 1, 'float32', 9));
    const mixedNoise = forwardBackbone(tiny, bb, z, t, { features: noise, mu: tf.tensor1d([0.5, 0, 0]) });
    expect(maxAbs(plain, mixedNoise)).toBeGreaterThan(1e-3);

    expect(adapterOptions(ad)).toEqual(opts);
    for (const name of ['conv_in.w', 'time.fc1.w', 'enc.0.res.0.conv1.w', 'enc.2.res.0.norm2.gamma']) {
      expect(maxAbs(ad.get(name)!, bb.get(name)!)).toBe(0);
      expect(ad.get(name)).not.toBe(bb.get(name)); // a copy, not the same variable
    }
    tf.dispose([z, t, cond, zeroCond, text, plain, adapted, mixedAny, mixedNoise, feats.mu, ...feats.features, ...noise]);
    disposeParams(bb);
    disposeParams(ad);
  });

  it('is deterministic per seed and round-trips through plain records', () => {
    const a = createBackbone(tiny, 7);
    const b = createBackbone(tiny, 7);
    const c = createBackbone(tiny, 8);
    expect(maxAbs(a.get('conv_in.w')!, b.get('conv_in.w')!)).toBe(0);
    expect(maxAbs(a.get('conv_in.w')!, c.get('conv_in.w')!)).toBeGreaterThan(0);
    const back = paramsFromRecord(paramsToRecord(a));
    expect([...back.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(maxAbs(v, back.get(k)!)).toBe(0);
    expect(paramCount(back)).toBe(paramCount(a));
    [a, b, c, back].forEach(disposeParams);
  });

  it('trains: gradients reach μ at step 0, then the adapter, and the backbone, and forwards leak no tensors', () => {
    const bb = createBackbone(tiny, 1);
    const ad = createAdapter(tiny, bb, { condChannels: 16, textDim: 0 }, 2);
    const z = tf.randomNormal<tf.Rank.R4>([1, 4, 8, 48], 0, 1, 'float32', 3);
    const t = tf.tensor1d([300]);
    const cond = tf.randomNormal<tf.Rank.R4>([1, 4, 8, 16], 0, 1, 'float32', 4);
    const before = tf.memory().numTensors;
    const names = ['mu', 'cond.out.w', 'conv_out.w', 'enc.0.res.0.conv1.w'];
    const vars = [ad.get('mu')!, ad.get('cond.out.w')!, bb.get('conv_out.w')!, bb.get('enc.0.res.0.conv1.w')!];
    const gradNorms = () => {
      const { value, grads } = tf.variableGrads(() => {
        const v = forwardModel(tiny, { backbone: bb, adapter: ad }, { z, t, cond });
        return tf.mean<tf.Scalar>(tf.square(v));
      }, vars);
      const norms = Object.fromEntries(names.map((n, i) => [n, tf.tidy(() => tf.norm(grads[vars[i]!.name]!).dataSync()[0]!)]));
      tf.dispose([value, ...Object.values(grads)]);
      return norms;
    };
    const step0 = gradNorms();
    // μ is not stuck: the adapter's features differ from the backbone's (the cond embedding is not zero).
    expect(step0['mu']).toBeGreaterThan(0);
    expect(step0['conv_out.w']).toBeGreaterThan(0);
    expect(step0['enc.0.res.0.conv1.w']).toBeGreaterThan(0);
    // Adapter weights only matter through μ, so at μ = 0 their gradient is exactly zero...
    expect(step0['cond.out.w']).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    // ...and flows as soon as μ has moved.
    ad.get('mu')!.assign(tf.tensor1d([0.1, 0.1, 0.1]));
    expect(gradNorms()['cond.out.w']).toBeGreaterThan(0);
    tf.dispose([z, t, cond]);
    disposeParams(bb);
    disposeParams(ad);
  });

  it('rejects inputs of the wrong shape with a readable error', () => {
    const bb = createBackbone(tiny, 1);
    const t = tf.tensor1d([1]);
    const bad = tf.zeros<tf.Rank.R4>([1, 6, 8, 48]);
    expect(() => forwardBackbone(tiny, bb, bad, t)).toThrow(/multiple of 4/);
    const badC = tf.zeros<tf.Rank.R4>([1, 8, 8, 12]);
    expect(() => forwardBackbone(tiny, bb, badC, t)).toThrow(/48/);
    tf.dispose([t, bad, badC]);
    disposeParams(bb);
  });
  it('an adapter from before the text FiLM and text head gains them as the identity: same output, and the missing names are added', () => {
    const bb = createBackbone(tiny, 1);
    const ad = createAdapter(tiny, bb, opts, 2);
    tf.tidy(() => ad.get('mu')!.assign(tf.fill([3], 0.5)));
    const text = tf.randomNormal<tf.Rank.R2>([2, 8], 0, 1, 'float32', 5);
    tf.tidy(() => ad.get('text_proj.w')!.assign(tf.randomNormal([8, 32], 0, 0.3, 'float32', 6)));
    const full = paramsToRecord(ad);
    const old = Object.fromEntries(Object.entries(full).filter(([n]) => !/^text_(film|head)\./.test(n)));
    const completed = completeAdapterRecord(tiny, old, opts, 9);
    expect(Object.keys(completed).sort()).toEqual(Object.keys(full).sort());
    const z = tf.randomNormal<tf.Rank.R4>([2, 8, 12, 48], 0, 1, 'float32', 3);
    const t = tf.tensor1d([5, 700]);
    const cond = tf.randomNormal<tf.Rank.R4>([2, 8, 12, 16], 0, 1, 'float32', 4);
    const adC = paramsFromRecord(completed);
    const a = forwardModel(tiny, { backbone: bb, adapter: ad }, { z, t, cond, text });
    const b = forwardModel(tiny, { backbone: bb, adapter: adC }, { z, t, cond, text });
    expect(maxAbs(a, b)).toBe(0);
    // the FiLM is live: a non-zero scale changes the output
    tf.tidy(() => adC.get('text_film.level0.scale.w')!.assign(tf.randomNormal(adC.get('text_film.level0.scale.w')!.shape, 0, 0.5, 'float32', 7)));
    const filmed = forwardModel(tiny, { backbone: bb, adapter: adC }, { z, t, cond, text });
    expect(maxAbs(a, filmed)).toBeGreaterThan(1e-4);
    // and so is the text head: a non-zero output conv adds to v
    tf.tidy(() => adC.get('text_head.out.w')!.assign(tf.randomNormal(adC.get('text_head.out.w')!.shape, 0, 0.5, 'float32', 8)));
    expect(maxAbs(filmed, forwardModel(tiny, { backbone: bb, adapter: adC }, { z, t, cond, text }))).toBeGreaterThan(1e-4);
    const wrong = { ...old, 'cond.0.w': { shape: [3, 3, 4, 8], data: new Float32Array(288) } };
    expect(() => completeAdapterRecord(tiny, wrong, opts, 9)).toThrow(/cond\.0\.w has shape \[3,3,4,8\]/);
    for (const set of [bb, ad, adC]) disposeParams(set);
  });
});
