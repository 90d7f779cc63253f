import { describe, expect, it } from 'vitest';
import { CLEAN_DETAIL_RATIO, detailRatio } from './detail-ratio.ts';
import { unsharpInPlace } from './unsharp.ts';

function texture(H: number, W: number): { data: Float32Array; shape: number[] } {
  let s = 12345;
  const data = new Float32Array(3 * H * W);
  for (let i = 0; i < H * W; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const v = s / 2147483648;
    for (let c = 0; c < 3; c++) data[c * H * W + i] = v;
  }
  return { data, shape: [1, 3, H, W] };
}

/** A box blur of each plane (radius 1), as blur and downscaling take out the finest scale. */
function blurred(x: { data: Float32Array; shape: number[] }): { data: Float32Array; shape: number[] } {
  const [, , H, W] = x.shape as [number, number, number, number];
  const out = new Float32Array(x.data.length);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += x.data[c * H * W + Math.min(H - 1, Math.max(0, y + dy)) * W + Math.min(W - 1, Math.max(0, xx + dx))]!;
        out[c * H * W + y * W + xx] = s / 9;
      }
    }
  }
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
