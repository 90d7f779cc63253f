import { describe, it, expect } from 'vitest';
import { blend, innerFeather, pasteWeighted } from './blend.ts';

describe('blend', () => {
  it('mixes the output toward the base by the strength', () => {
    const out = { data: Float32Array.of(1, -1, 0.5), shape: [1, 1, 1, 3] };
    const base = { data: Float32Array.of(-1, 1, 0.5), shape: [1, 1, 1, 3] };
    expect([...blend(out, base, 0.25).data]).toEqual([-0.5, 0.5, 0.5]);
    expect([...blend(out, base, 0).data]).toEqual([...base.data]);
  });

  it('returns the output itself at strength 1 or without one', () => {
    const out = { data: Float32Array.of(1), shape: [1, 1, 1, 1] };
    const base = { data: Float32Array.of(0), shape: [1, 1, 1, 1] };
    expect(blend(out, base, 1)).toBe(out);
    expect(blend(out, base, undefined)).toBe(out);
  });

  it('builds a lazy base only when it mixes', () => {
    const out = { data: Float32Array.of(1), shape: [1, 1, 1, 1] };
    let built = 0;
    const base = () => (built++, { data: Float32Array.of(0), shape: [1, 1, 1, 1] });
    expect(blend(out, base, 1)).toBe(out);
    expect(built).toBe(0);
    expect([...blend(out, base, 0.5).data]).toEqual([0.5]);
    expect(built).toBe(1);
  });
});

describe('innerFeather', () => {
  it('is 0 outside the mask, 1 inside and on straight edges, below 1 at a corner', () => {
    const W = 20;
    const H = 20;
    const mask = new Float32Array(W * H);
    for (let y = 4; y < 16; y++) for (let x = 4; x < 16; x++) mask[y * W + x] = 1;
    const w = innerFeather(mask, W, H, 3);
    for (let i = 0; i < w.length; i++) if (mask[i] === 0) expect(w[i]).toBe(0);
    expect(w[10 * W + 10]).toBe(1);
    // on a straight edge 4 of the window's 7 columns are mask: 2 · 4/7 > 1
    expect(w[10 * W + 4]).toBe(1);
    // corner pixel: 16 of the 49 window pixels are in the mask, 2 · 16/49 ≈ 0.65
    expect(w[4 * W + 4]).toBeCloseTo(32 / 49, 5);
  });
});

describe('pasteWeighted', () => {
  it('changes only weighted pixels, rounds, keeps alpha and drops the patch past the edge', () => {
    // 3×2 RGBA image, 2×2 patch placed at x0 = 2, so its right column falls outside
    const dst = { pixels: new Uint8Array(3 * 2 * 4).fill(100), channels: 4, width: 3, height: 2 };
    const patch = new Uint8Array(2 * 2 * 3).fill(201);
    const weights = Float32Array.of(1, 1, 0.5, 0);
    pasteWeighted(dst, patch, weights, { x0: 2, y0: 0, width: 2, height: 2 });
    const px = (x: number, y: number) => [...dst.pixels.subarray((y * 3 + x) * 4, (y * 3 + x) * 4 + 4)];
    expect(px(2, 0)).toEqual([201, 201, 201, 100]);
    expect(px(2, 1)).toEqual([151, 151, 151, 100]); // 0.5·201 + 0.5·100 = 150.5 → 151
    for (const [x, y] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) expect(px(x, y)).toEqual([100, 100, 100, 100]);
  });
});
