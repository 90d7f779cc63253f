import { describe, it, expect } from 'vitest';
import { boxBlurInto, boxMean, clampUnit, gaussianTaps, clampUnitInPlace, greyAtLumaInPlace, luma601, luma709 } from './filters.ts';

/** The definition, summed window by window: what the running sums must reproduce. */
function naiveBoxMean(src: Float32Array, H: number, W: number, r: number): Float32Array {
  const at = (y: number, x: number) => src[Math.min(H - 1, Math.max(0, y)) * W + Math.min(W - 1, Math.max(0, x))] as number;
  const tmp = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let s = 0;
    for (let d = -r; d <= r; d++) s += at(y, x + d);
    tmp[y * W + x] = s / (2 * r + 1);
  }
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let s = 0;
    for (let d = -r; d <= r; d++) s += tmp[Math.min(H - 1, Math.max(0, y + d)) * W + x] as number;
    out[y * W + x] = s / (2 * r + 1);
  }
  return out;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);

describe('boxMean', () => {
  it('averages over the window with clamped edges', () => {
    const m = boxMean(Float32Array.from([0, 3, 6, 9]), 1, 4, 1);
    expect([...m]).toEqual([1, 3, 6, 8]);
  });

  it('matches the window-by-window sum in both directions, radius larger than the plane included', () => {
    const H = 7;
    const W = 11;
    const src = Float32Array.from({ length: H * W }, (_, i) => Math.sin(i * 1.7) * 3 + ((i * 7) % 5));
    for (const r of [1, 2, 4, 13]) expect(maxAbsDiff(boxMean(src, H, W, r), naiveBoxMean(src, H, W, r))).toBeLessThan(1e-5);
  });

  it('copies the plane for radius 0 and leaves the source alone', () => {
    const src = Float32Array.from([1, -2, 3, 4, 5, 6]);
    const out = boxMean(src, 2, 3, 0);
    expect([...out]).toEqual([1, -2, 3, 4, 5, 6]);
    expect(out).not.toBe(src);
    boxMean(src, 2, 3, 1);
    expect([...src]).toEqual([1, -2, 3, 4, 5, 6]);
  });
});

describe('boxBlurInto', () => {
  it('blurs in place when the destination is the source', () => {
    const H = 5;
    const W = 6;
    const src = Float32Array.from({ length: H * W }, (_, i) => (i * 13) % 7);
    const want = boxMean(src, H, W, 2);
    const got = boxBlurInto(src, src, new Float32Array(H * W), H, W, 2);
    expect(got).toBe(src);
    expect([...got]).toEqual([...want]);
  });
});

describe('luma', () => {
  it('luma601 uses the BT.601 weights, which sum to 1', () => {
    expect(luma601(1, 0, 0)).toBeCloseTo(0.299, 12);
    expect(luma601(0, 1, 0)).toBeCloseTo(0.587, 12);
    expect(luma601(0, 0, 1)).toBeCloseTo(0.114, 12);
    expect(luma601(200, 200, 200)).toBeCloseTo(200, 10);
  });

  it('luma709 uses the BT.709 weights, which sum to 1', () => {
    expect(luma709(1, 0, 0)).toBeCloseTo(0.2126, 12);
    expect(luma709(0, 1, 0)).toBeCloseTo(0.7152, 12);
    expect(luma709(0, 0, 1)).toBeCloseTo(0.0722, 12);
    expect(luma709(0.5, 0.5, 0.5)).toBeCloseTo(0.5, 12);
  });
});

describe('clampUnit', () => {
  it('limits values to [−1, 1] and keeps NaN visible', () => {
    expect([clampUnit(-3), clampUnit(-1), clampUnit(0.25), clampUnit(1), clampUnit(7)]).toEqual([-1, -1, 0.25, 1, 1]);
    expect(clampUnit(NaN)).toBeNaN();
  });

  it('clamps a plane in place', () => {
    const d = Float32Array.from([-2, -0.5, 0, 0.5, 2]);
    expect(clampUnitInPlace(d)).toBe(d);
    expect([...d]).toEqual([-1, -0.5, 0, 0.5, 1]);
  });
});

describe('greyAtLumaInPlace', () => {
  it('sets every channel of each pixel to its BT.709 luma, item by item', () => {
    // two items of 2 pixels: [R plane, G plane, B plane] each
    const x = { data: Float32Array.from([1, -1, 0, 0.5, -0.5, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]), shape: [2, 3, 1, 2] };
    greyAtLumaInPlace(x);
    const y0 = Math.fround(luma709(1, 0, -0.5));
    const y1 = Math.fround(luma709(-1, 0.5, 0));
    expect(Array.from(x.data.slice(0, 6))).toEqual([y0, y1, y0, y1, y0, y1]);
    // an item that was grey already stays as it was
    expect(Array.from(x.data.slice(6))).toEqual(Array.from(Float32Array.from([0.2, 0.2, 0.2, 0.2, 0.2, 0.2])));
  });
  it('refuses anything but RGB', () => {
    expect(() => greyAtLumaInPlace({ data: new Float32Array(4), shape: [1, 1, 2, 2] })).toThrow(RangeError);
  });
});

describe('gaussianTaps', () => {
  it('sums to 1, is symmetric and spans 3σ', () => {
    const t = gaussianTaps(2.5);
    expect(t.length).toBe(2 * 8 + 1);
    expect(t.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    for (let i = 0; i < t.length; i++) expect(t[i]).toBeCloseTo(t[t.length - 1 - i]!, 7);
  });
});
