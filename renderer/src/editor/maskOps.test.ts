import { describe, it, expect } from 'vitest';
import { feather, fillPolygon, growShrink, rectPolygon } from './maskOps.ts';

function disc(w: number, h: number, cx: number, cy: number, r: number): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (Math.hypot(x + 0.5 - cx, y + 0.5 - cy) <= r) m[y * w + x] = 255;
  return m;
}

const count = (m: Uint8Array, t = 128) => m.reduce((n, v) => n + (v >= t ? 1 : 0), 0);

describe('growShrink', () => {
  it('grows a disc to the disc of the larger radius and shrinks it back', () => {
    const w = 80;
    const m = disc(w, w, 40, 40, 10);
    const grown = growShrink(m, w, w, 5);
    const area = count(grown);
    expect(Math.abs(area - Math.PI * 15 * 15) / (Math.PI * 225)).toBeLessThan(0.08);
    expect(grown[40 * w + 40 + 14]).toBe(255);
    expect(grown[40 * w + 40 + 17]).toBe(0);
    const shrunk = growShrink(m, w, w, -4);
    expect(Math.abs(count(shrunk) - Math.PI * 36) / (Math.PI * 36)).toBeLessThan(0.2);
    expect(shrunk[40 * w + 40]).toBe(255);
    expect(shrunk[40 * w + 40 + 8]).toBe(0);
    // Growing never removes and shrinking never adds.
    for (let i = 0; i < m.length; i++) {
      expect(grown[i]!).toBeGreaterThanOrEqual(m[i]!);
      expect(shrunk[i]!).toBeLessThanOrEqual(m[i]!);
    }
  });

  it('leaves an empty mask empty and radius 0 unchanged', () => {
    expect(count(growShrink(new Uint8Array(100), 10, 10, 3), 1)).toBe(0);
    const m = disc(20, 20, 10, 10, 4);
    expect(growShrink(m, 20, 20, 0)).toEqual(m);
  });
});

describe('feather', () => {
  it('softens the edge, keeps the centre and roughly the mass', () => {
    const w = 64;
    const m = disc(w, w, 32, 32, 12);
    const f = feather(m, w, w, 9);
    expect(f[32 * w + 32]).toBe(255);
    const edge = f[32 * w + 32 + 12]!;
    expect(edge).toBeGreaterThan(40);
    expect(edge).toBeLessThan(220);
    const sum = (a: Uint8Array) => a.reduce((n, v) => n + v, 0);
    expect(Math.abs(sum(f) - sum(m)) / sum(m)).toBeLessThan(0.02);
  });
});

describe('fillPolygon', () => {
  it('fills a rectangle exactly by pixel centres and subtracts it again', () => {
    const w = 20;
    const m = new Uint8Array(w * w);
    fillPolygon(m, w, w, rectPolygon({ x: 2, y: 3 }, { x: 7, y: 9 }), 'add');
    expect(count(m)).toBe(5 * 6);
    expect(m[3 * w + 2]).toBe(255);
    expect(m[9 * w + 7]).toBe(0);
    fillPolygon(m, w, w, rectPolygon({ x: 2, y: 3 }, { x: 4, y: 9 }), 'subtract');
    expect(count(m)).toBe(3 * 6);
  });

  it('fills a triangle with about its area and clips to the image', () => {
    const w = 100;
    const m = new Uint8Array(w * w);
    fillPolygon(m, w, w, [{ x: 10, y: 10 }, { x: 90, y: 10 }, { x: 10, y: 90 }], 'add');
    expect(Math.abs(count(m) - 3200) / 3200).toBeLessThan(0.03);
    const c = new Uint8Array(w * w);
    fillPolygon(c, w, w, rectPolygon({ x: -50, y: -50 }, { x: 150, y: 150 }), 'add');
    expect(count(c)).toBe(w * w);
  });
});
