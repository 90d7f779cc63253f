import { describe, expect, it } from 'vitest';
import type { F32Tensor } from '../tensor/ops.ts';
import { teleaFill } from './telea.ts';

function image(C: number, H: number, W: number, f: (c: number, y: number, x: number) => number): F32Tensor {
  const data = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[(c * H + y) * W + x] = f(c, y, x);
  return { data, shape: [1, C, H, W] };
}

function maskOf(H: number, W: number, inHole: (y: number, x: number) => boolean): F32Tensor {
  const data = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = inHole(y, x) ? 1 : 0;
  return { data, shape: [1, 1, H, W] };
}

const disc = (cy: number, cx: number, r: number) => (y: number, x: number) => (y - cy) ** 2 + (x - cx) ** 2 <= r * r;

describe('teleaFill', () => {
  it('keeps a constant image constant', () => {
    const img = image(3, 24, 24, (c) => [0.25, -0.5, 0.75][c] as number);
    const out = teleaFill(img, maskOf(24, 24, disc(12, 12, 7)));
    for (let i = 0; i < out.data.length; i++) expect(out.data[i]).toBeCloseTo(img.data[i] as number, 6);
  });

  it('reproduces a linear ramp inside the hole (first-order extrapolation)', () => {
    const ramp = (c: number, y: number, x: number) => (c === 0 ? -0.8 + 0.04 * x : 0.6 - 0.03 * y + 0.02 * x);
    const img = image(2, 32, 40, ramp);
    const mask = maskOf(32, 40, (y, x) => y >= 8 && y < 22 && x >= 10 && x < 30);
    const out = teleaFill(img, mask);
    let worst = 0;
    for (let i = 0; i < out.data.length; i++) worst = Math.max(worst, Math.abs((out.data[i] as number) - (img.data[i] as number)));
    expect(worst).toBeLessThan(1e-4);
  });

  it('copies every pixel outside the mask bit for bit and leaves the input untouched', () => {
    let s = 11;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const img = image(3, 30, 30, () => rnd());
    const before = new Float32Array(img.data);
    const mask = maskOf(30, 30, (y, x) => disc(10, 20, 6)(y, x) || (y > 24 && x < 8));
    const out = teleaFill(img, mask);
    expect(img.data).toEqual(before);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 900; i++) {
      const v = out.data[c * 900 + i] as number;
      if ((mask.data[i] as number) < 0.5) expect(Object.is(v, img.data[c * 900 + i])).toBe(true);
      else expect(Math.abs(v)).toBeLessThanOrEqual(1);
    }
  });

  it('continues each side of an edge into the hole instead of averaging them', () => {
    const img = image(1, 40, 40, (_c, _y, x) => (x < 20 ? -0.6 : 0.6));
    const mask = maskOf(40, 40, (y, x) => y >= 12 && y < 28 && x >= 12 && x < 28);
    const out = teleaFill(img, mask);
    let left = 0;
    let right = 0;
    for (let y = 12; y < 28; y++) for (let x = 12; x < 16; x++) {
      left += (out.data[y * 40 + x] as number) / 64;
      right += (out.data[y * 40 + 39 - x] as number) / 64;
    }
    expect(left).toBeLessThan(-0.4);
    expect(right).toBeGreaterThan(0.4);
  });

  it('fills a hole on the image border, broadcasts one mask over a batch, and greys a fully masked item', () => {
    const one = image(3, 16, 16, (c, y) => 0.1 * c - 0.02 * y);
    const batch: F32Tensor = { data: new Float32Array([...one.data, ...one.data]), shape: [2, 3, 16, 16] };
    const out = teleaFill(batch, maskOf(16, 16, (y, x) => x < 4));
    expect(out.shape).toEqual([2, 3, 16, 16]);
    for (let i = 0; i < one.data.length; i++) {
      expect(out.data[i]).toBeCloseTo(one.data[i] as number, 5);
      expect(out.data[one.data.length + i]).toBe(out.data[i]);
    }
    const all = teleaFill(one, maskOf(16, 16, () => true));
    expect(Array.from(all.data).every((v) => v === 0)).toBe(true);
  });

  it('rejects a mask of the wrong size', () => {
    expect(() => teleaFill(image(3, 8, 8, () => 0), maskOf(8, 9, () => false))).toThrow(/mask must be/);
  });
});
