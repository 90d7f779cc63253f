import { describe, it, expect } from 'vitest';
import type { NetConfig } from './config.ts';
import { defaultNetConfig, levelChannels, validateNetConfig } from './config.ts';
import { countParams, initParams } from './params.ts';
import { adapterParamSpecs, backboneParamSpecs, countFlops, traceNetwork } from './trace.ts';

const tiny: NetConfig = { ...defaultNetConfig, baseChannels: 8, groups: 4, timeDim: 16, embDim: 32, condHidden: 8 };

describe('network definition traced on shapes', () => {
  it('produces v of the latent shape and per-level adapter features', () => {
    const size = { batch: 2, height: 8, width: 12 };
    expect(traceNetwork(tiny, 'backbone', undefined, size).outputs).toEqual([[2, 48, 8, 12]]);
    const ad = traceNetwork(tiny, 'adapter', { condChannels: 64, textDim: 0 }, size).outputs;
    expect(ad).toEqual([[2, 8, 8, 12], [2, 16, 4, 6], [2, 16, 2, 3], [3]]);
    expect(levelChannels(tiny)).toEqual([8, 16, 16]);
    // a text adapter adds its v-offset (textHead) after μ
    const withText = traceNetwork(tiny, 'adapter', { condChannels: 64, textDim: 8 }, size).outputs;
    expect(withText).toEqual([...ad, [2, 48, 8, 12]]);
  });

  it('declares the adapter as a copy of the backbone encoder plus condition layers and μ', () => {
    const bb = new Map(backboneParamSpecs(tiny).map((p) => [p.name, p.shape]));
    const ad = adapterParamSpecs(tiny, { condChannels: 16, textDim: 8 });
    const own = ad.filter((p) => !bb.has(p.name)).map((p) => p.name);
    const film = ['text_film.hidden.b', 'text_film.hidden.w'];
    for (const at of ['cond', 'level0', 'level1', 'level2']) for (const k of ['scale', 'shift']) film.push(`text_film.${at}.${k}.b`, `text_film.${at}.${k}.w`);
    const head = ['gate', 'in', 'out', 'shift', 'time'].flatMap((k) => [`text_head.${k}.b`, `text_head.${k}.w`]);
    expect(own.sort()).toEqual(['cond.0.b', 'cond.0.w', 'cond.1.b', 'cond.1.w', 'cond.out.b', 'cond.out.w', 'mu', ...film, ...head, 'text_proj.b', 'text_proj.w'].sort());
    expect(ad.find((p) => p.name === 'text_head.in.w')!.shape).toEqual([1, 1, 16, 48]);
    for (const p of ad) if (bb.has(p.name)) expect(p.shape).toEqual(bb.get(p.name));
    expect(ad.some((p) => p.name.startsWith('dec.') || p.name.startsWith('mid.'))).toBe(false);
    const init = initParams(ad, 1);
    expect([...init['mu']!.data]).toEqual([0, 0, 0]);
    expect(init['text_proj.w']!.data.every((v) => v === 0)).toBe(true);
    expect(init['cond.out.w']!.data.some((v) => v !== 0)).toBe(true);
    // FiLM starts as the identity: every scale and shift is zero
    for (const [name, p] of Object.entries(init)) if (/^text_film\.(cond|level\d)\./.test(name)) expect(p.data.every((v) => v === 0)).toBe(true);
    // the text head starts adding nothing (zero output conv and shift) but its input conv is random,
    // so the output conv gets a gradient at step 0; its gates start at one (zero dense)
    for (const k of ['out', 'shift', 'gate', 'time']) expect(init[`text_head.${k}.w`]!.data.every((v) => v === 0)).toBe(true);
    expect(init['text_head.in.w']!.data.some((v) => v !== 0)).toBe(true);
    // without text there is no FiLM: restore, inpaint and depth adapters keep their parameters
    expect(adapterParamSpecs(tiny, { condChannels: 16, textDim: 0 }).some((p) => p.name.startsWith('text_'))).toBe(false);
  });

  it('counts conv and dense FLOPs exactly (hand count for a one-level net)', () => {
    const cfg: NetConfig = { ...tiny, channelMult: [1], resBlocks: 1 };
    const [h, w, c, lc, e, td] = [4, 6, 8, 48, 32, 16];
    const px = h * w;
    const conv3 = (i: number, o: number) => 2 * px * 9 * i * o;
    const expected =
      2 * td * e + 2 * e * e + // time MLP
      conv3(lc, c) + // conv_in
      2 * (conv3(c, c) + conv3(c, c) + 2 * e * c) + // enc.0.res.0 and mid.res.0
      conv3(2 * c, c) + conv3(c, c) + 2 * e * c + 2 * px * 2 * c * c + // dec.0.res.0 with its 1×1 skip
      conv3(c, lc); // conv_out
    expect(countFlops(cfg, 'backbone', { batch: 1, height: h, width: w })).toBe(expected);
    expect(countFlops(cfg, 'backbone', { batch: 3, height: h, width: w })).toBe(3 * expected);
  });

  it('keeps the default backbone CPU-sized', () => {
    const n = countParams(backboneParamSpecs(defaultNetConfig));
    expect(n).toBeGreaterThan(1e6);
    expect(n).toBeLessThan(5e6);
  });

  it('rejects impossible configs and sizes with readable errors', () => {
    expect(() => validateNetConfig({ ...tiny, groups: 3 })).toThrow(/groups/);
    expect(() => validateNetConfig({ ...tiny, timeDim: 15 })).toThrow(/even/);
    expect(() => traceNetwork(tiny, 'backbone', undefined, { batch: 1, height: 6, width: 8 })).toThrow(/even/);
  });
});
