import { describe, expect, it } from 'vitest';
import { Rng } from '../rng.ts';
import { edgeCorrelation, gaussianBlur, gradientMagnitude, interiorCorrelation, planarLuma } from './depth-edges.ts';

const W = 48;
const H = 40;

function plane(f: (x: number, y: number) => number): Float32Array {
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = f(x, y);
  return out;
}

// a near disc on a far wall: the depth edge is the disc's rim
const discMap = plane((x, y) => (Math.hypot(x - 20, y - 18) < 10 ? 1 : -1));

describe('edge correlation', () => {
  it('is 1 for a picture whose luminance is any increasing affine copy of the map', () => {
    expect(edgeCorrelation(discMap.map((v) => 0.2 + 0.1 * v), discMap, W, H)).toBeCloseTo(1, 6);
  });

  it('counts an inverted picture (dark near object) as following the map', () => {
    expect(edgeCorrelation(discMap.map((v) => -v), discMap, W, H)).toBeCloseTo(1, 6);
  });

  it('is near 0 for noise and for edges somewhere else', () => {
    const rng = new Rng(3);
    const noise = plane(() => rng.uniform());
    expect(Math.abs(edgeCorrelation(noise, discMap, W, H))).toBeLessThan(0.15);
    const elsewhere = plane((x, y) => (x > 40 && y > 30 ? 1 : 0));
    expect(edgeCorrelation(elsewhere, discMap, W, H)).toBeLessThan(0.05);
  });

  it('keeps an edge one pixel off as the same edge (the light blur), and texture lowers it', () => {
    const shifted = plane((x, y) => (Math.hypot(x - 21, y - 18) < 10 ? 1 : -1));
    const shiftedCorr = edgeCorrelation(shifted, discMap, W, H);
    expect(shiftedCorr).toBeGreaterThan(0.6);
    expect(edgeCorrelation(shifted, discMap, W, H, 0)).toBeLessThan(shiftedCorr);
    const rng = new Rng(5);
    const textured = plane((x, y) => (Math.hypot(x - 20, y - 18) < 10 ? 0.8 : 0.2) + 0.6 * rng.uniform());
    const c = edgeCorrelation(textured, discMap, W, H);
    expect(c).toBeGreaterThan(0.3);
    expect(c).toBeLessThan(0.95);
  });

  it('is 0 when either plane is flat, and checks sizes', () => {
    expect(edgeCorrelation(new Float32Array(W * H).fill(0.5), discMap, W, H)).toBe(0);
    expect(() => edgeCorrelation(new Float32Array(3), discMap, W, H)).toThrow(RangeError);
  });
});

describe('edge correlation pieces', () => {
  it('blur keeps the mean of a plane and smooths a step', () => {
    const step = plane((x) => (x < 24 ? 0 : 1));
    const b = gaussianBlur(step, W, H, 1);
    const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(b)).toBeCloseTo(mean(step), 5);
    expect(b[10 * W + 23]).toBeGreaterThan(0.1);
    expect(b[10 * W + 23]).toBeLessThan(0.5);
    expect(gaussianBlur(step, W, H, 0)).toEqual(step);
  });

  it('Sobel magnitude of a unit ramp is 8 inside and 0 on the border', () => {
    const g = gradientMagnitude(plane((x) => x), W, H);
    expect(g[5 * W + 5]).toBeCloseTo(8, 5);
    expect(g[0]).toBe(0);
  });

  it('correlation is symmetric and −1 for a negated copy', () => {
    const a = plane((x, y) => x * y);
    const b = plane((x, y) => -x * y);
    expect(interiorCorrelation(a, b, W, H)).toBeCloseTo(-1, 6);
    expect(interiorCorrelation(a, discMap, W, H)).toBeCloseTo(interiorCorrelation(discMap, a, W, H), 10);
  });

  it('planar luma uses BT.601 weights', () => {
    const l = planarLuma([1, 0, 1, 0, 0, 1], 2);
    expect(l[0]).toBeCloseTo(0.299 + 0.587, 6);
    expect(l[1]).toBeCloseTo(0.114, 6);
  });
});
