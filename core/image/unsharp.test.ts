import { describe, expect, it } from 'vitest';
import { gaussianTaps } from './filters.ts';
import { unsharpInPlace } from './unsharp.ts';

/** The mask written the plain way: whole-plane horizontal then vertical blur into new arrays. */
function naive(data: Float32Array, planes: number, H: number, W: number, sigma: number, amount: number): Float32Array {
  const taps = gaussianTaps(sigma);
  const r = (taps.length - 1) / 2;
  const clamp = (v: number, n: number): number => Math.min(n - 1, Math.max(0, v));
  const out = new Float32Array(data.length);
  for (let p = 0; p < planes; p++) {
    const o = p * H * W;
    const h = new Float64Array(H * W);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let k = -r; k <= r; k++) h[y * W + x]! += taps[k + r]! * data[o + y * W + clamp(x + k, W)]!;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let b = 0;
        for (let k = -r; k <= r; k++) b += taps[k + r]! * h[clamp(y + k, H) * W + x]!;
        const v = data[o + y * W + x]!;
        out[o + y * W + x] = v + amount * (v - b);
      }
    }
  }
  return out;
}

function noise(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  });
}

describe('unsharpInPlace', () => {
  it.each([
    [3, 37, 29, 2, 0.5],
    [1, 5, 40, 3, 0.75],
    [2, 40, 3, 1.5, 1],
    [1, 1, 9, 1, 0.3],
  ])('equals the whole-plane mask (%i planes, %i×%i, σ %f, amount %f)', (planes, H, W, sigma, amount) => {
    const data = noise(planes * H * W, H * 31 + W);
    const want = naive(data, planes, H, W, sigma, amount);
    const x = { data: data.slice(), shape: [1, planes, H, W] };
    unsharpInPlace(x, { sigma, amount });
    for (let i = 0; i < want.length; i++) expect(x.data[i]).toBeCloseTo(want[i]!, 5);
  });

  it('leaves a flat image and amount 0 alone', () => {
    const flat = { data: new Float32Array(3 * 20 * 20).fill(0.25), shape: [1, 3, 20, 20] };
    unsharpInPlace(flat, { sigma: 3, amount: 0.5 });
    for (const v of flat.data) expect(v).toBeCloseTo(0.25, 6);
    const data = noise(3 * 16 * 16, 7);
    const same = { data: data.slice(), shape: [1, 3, 16, 16] };
    unsharpInPlace(same, { sigma: 2, amount: 0 });
    expect(same.data).toEqual(data);
  });

  it('raises the contrast across an edge', () => {
    const W = 32;
    const x = { data: Float32Array.from({ length: W * 8 }, (_, i) => ((i % W) < W / 2 ? 0 : 1)), shape: [1, 1, 8, W] };
    unsharpInPlace(x, { sigma: 2, amount: 0.5 });
    expect(x.data[W / 2 - 1]).toBeLessThan(0);
    expect(x.data[W / 2]).toBeGreaterThan(1);
  });

  it('refuses a bad σ or amount', () => {
    const x = { data: new Float32Array(16), shape: [1, 1, 4, 4] };
    expect(() => unsharpInPlace(x, { sigma: 0, amount: 0.5 })).toThrow(/σ/);
    expect(() => unsharpInPlace(x, { sigma: 1, amount: -1 })).toThrow(/amount/);
  });
});
