import { describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { CLEAN_DETAIL_RATIO, detailRatio } from './detail-ratio.ts';
import { boxMean } from './filters.ts';
import { unsharpInPlace } from './unsharp.ts';

/** Fine grey texture: every pixel its own uniform draw. */
function texture(H: number, W: number): { data: Float32Array; shape: number[] } {
  const plane = new Rng(12345).fillUniform(new Float32Array(H * W));
  const data = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) data.set(plane, c * H * W);
  return { data, shape: [1, 3, H, W] };
}

/** A box blur of each plane (radius 1), as blur and downscaling take out the finest scale. */
function blurred(x: { data: Float32Array; shape: number[] }): { data: Float32Array; shape: number[] } {
  const [, , H, W] = x.shape as [number, number, number, number];
  const out = new Float32Array(x.data.length);
  for (let c = 0; c < 3; c++) out.set(boxMean(x.data.subarray(c * H * W, (c + 1) * H * W), H, W, 1), c * H * W);
  return { data: out, shape: x.shape };
}

describe('detailRatio', () => {
  it('is high for fine texture and low once it is blurred', () => {
    const sharp = texture(32, 40);
    expect(detailRatio(sharp)).toBeGreaterThan(CLEAN_DETAIL_RATIO);
    expect(detailRatio(blurred(blurred(sharp)))).toBeLessThan(CLEAN_DETAIL_RATIO);
  });

  it('does not depend on the value range', () => {
    const a = blurred(texture(16, 16));
    const b = { data: a.data.map((v) => 2 * v - 1), shape: a.shape };
    expect(detailRatio(b)).toBeCloseTo(detailRatio(a), 4);
  });

  it('rises when the finest scale is sharpened', () => {
    const soft = blurred(texture(24, 24));
    const sharper = { data: soft.data.slice(), shape: soft.shape };
    unsharpInPlace(sharper, { sigma: 1, amount: 1 });
    expect(detailRatio(sharper)).toBeGreaterThan(detailRatio(soft));
  });

  it('calls a flat image clean and refuses a grey one', () => {
    expect(detailRatio({ data: new Float32Array(3 * 8 * 8).fill(0.5), shape: [1, 3, 8, 8] })).toBe(Infinity);
    expect(() => detailRatio({ data: new Float32Array(64), shape: [1, 1, 8, 8] })).toThrow(/RGB/);
  });
});
