import { describe, it, expect } from 'vitest';
import { f32Tensor } from '../tensor/ops.ts';
import type { F32Tensor } from '../tensor/ops.ts';
import { at } from '../at.ts';
import { areaWeights, bicubicWeights, keysCubic, resizeArea, resizeBicubic } from './resize.ts';

function image(C: number, H: number, W: number, f: (c: number, y: number, x: number) => number): F32Tensor {
  const t = f32Tensor([1, C, H, W]);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) t.data[(c * H + y) * W + x] = f(c, y, x);
  return t;
}
const pixel = (t: F32Tensor, c: number, y: number, x: number) => at(t.data, (c * at(t.shape, 2) + y) * at(t.shape, 3) + x);

describe('Keys cubic kernel (a = −0.5)', () => {
  it('hand values', () => {
    expect(keysCubic(0)).toBe(1);
    expect(keysCubic(1)).toBe(0);
    expect(keysCubic(2)).toBe(0);
    expect(keysCubic(0.5)).toBeCloseTo(0.5625, 12); // 1.5·0.125 − 2.5·0.25 + 1
    expect(keysCubic(-1.5)).toBeCloseTo(-0.0625, 12); // −0.5·3.375 + 2.5·2.25 − 4·1.5 + 2
  });
});

describe('bicubic weights', () => {
  it('×2 upsampling uses the torch/PIL taps (−0.0234375, 0.2265625, 0.8671875, −0.0703125)', () => {
    const w = bicubicWeights(8, 16);
    // output 5: centre (5.5)/2 − 0.5 = 2.25 → taps at 1, 2, 3, 4 (distances 1.25, 0.25, 0.75, 1.75)
    const ws = Array.from(w.weight.slice(5 * w.taps, 6 * w.taps));
    const ix = Array.from(w.index.slice(5 * w.taps, 6 * w.taps));
    const byIndex = new Map<number, number>();
    ix.forEach((j, k) => byIndex.set(j, (byIndex.get(j) ?? 0) + at(ws, k)));
    expect(byIndex.get(1)).toBeCloseTo(-0.0703125, 12);
    expect(byIndex.get(2)).toBeCloseTo(0.8671875, 12);
    expect(byIndex.get(3)).toBeCloseTo(0.2265625, 12);
    expect(byIndex.get(4)).toBeCloseTo(-0.0234375, 12);
  });
  it('÷2 antialiased downsampling stretches the kernel (PIL taps)', () => {
    const w = bicubicWeights(16, 8);
    const ws = Array.from(w.weight.slice(3 * w.taps, 4 * w.taps)).filter((v) => v !== 0);
    const expected = [-0.01171875, -0.03515625, 0.11328125, 0.43359375, 0.43359375, 0.11328125, -0.03515625, -0.01171875];
    expect(ws).toHaveLength(8);
    ws.forEach((v, i) => expect(v).toBeCloseTo(at(expected, i), 12));
  });
  it('edge taps are clamped onto the border pixel', () => {
    const w = bicubicWeights(4, 8);
    for (const j of w.index) {
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(4);
    }
  });
  it('area weights: exact block means for integer factors, overlaps otherwise', () => {
    const a = areaWeights(6, 3);
    expect(Array.from(a.weight.slice(0, a.taps))).toEqual([0.5, 0.5, 0]);
    const b = areaWeights(3, 2); // output 0 covers [0, 1.5): 1/1.5 of px 0, 0.5/1.5 of px 1
    expect(b.weight[0]).toBeCloseTo(2 / 3, 12);
    expect(b.weight[1]).toBeCloseTo(1 / 3, 12);
  });
});

describe('resize', () => {
  it('a constant image stays exactly constant (up, down, odd sizes, area)', () => {
    const x = image(3, 7, 11, (c) => at([0.3, -0.7, 0.123456], c));
    for (const [h, w] of [[28, 44], [3, 5], [7, 11], [13, 2], [1, 1]] as const) {
      const y = resizeBicubic(x, h, w);
      expect(y.shape).toEqual([1, 3, h, w]);
      for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) expect(y.data[c * h * w + i]).toBe(Math.fround(at([0.3, -0.7, 0.123456], c)));
    }
    const z = resizeArea(x, 3, 4);
    for (let i = 0; i < 12; i++) expect(z.data[i]).toBe(Math.fround(0.3));
  });
  it('same size is the identity', () => {
    const x = image(1, 5, 6, (_, y, xx) => Math.sin(y * 3 + xx));
    expect(Array.from(resizeBicubic(x, 5, 6).data)).toEqual(Array.from(x.data));
  });
  it('a linear ramp is reproduced in the interior when upsampling ×4', () => {
    const x = image(1, 8, 8, (_, __, xx) => 0.1 * xx);
    const y = resizeBicubic(x, 32, 32);
    // interior output column o maps to input coordinate (o + 0.5)/4 − 0.5
    for (const o of [8, 13, 20]) expect(pixel(y, 0, 10, o)).toBeCloseTo(0.1 * ((o + 0.5) / 4 - 0.5), 6);
  });
  it('upsample then downsample of a smooth image is close to the original', () => {
    const x = image(3, 32, 40, (c, y, xx) => Math.sin(y / 5 + c) * Math.cos(xx / 7));
    const back = resizeBicubic(resizeBicubic(x, 128, 160), 32, 40);
    let err = 0;
    for (let i = 0; i < x.data.length; i++) err = Math.max(err, Math.abs(at(back.data, i) - at(x.data, i)));
    expect(err).toBeLessThan(0.02);
  });
  it('area ÷2 is the 2×2 block mean', () => {
    const x = image(1, 4, 4, (_, y, xx) => y * 4 + xx);
    const y = resizeArea(x, 2, 2);
    expect(Array.from(y.data)).toEqual([2.5, 4.5, 10.5, 12.5]);
  });
  it('works on [B, C, H, W] with B > 1 and keeps planes separate', () => {
    const x = f32Tensor([2, 1, 2, 2], Float32Array.from([1, 1, 1, 1, -1, -1, -1, -1]));
    const y = resizeBicubic(x, 4, 4);
    expect(y.shape).toEqual([2, 1, 4, 4]);
    expect(y.data[0]).toBe(1);
    expect(y.data[31]).toBe(-1);
  });
});
