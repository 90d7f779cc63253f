import { describe, it, expect } from 'vitest';
import { dabAlpha, dabSpacing, stampDab, StrokeSpacer } from './brush.ts';

describe('dab profile', () => {
  it('is 1 inside the hard core, 0 at and beyond the radius, monotone in between', () => {
    expect(dabAlpha(0, 10, 0.5)).toBe(1);
    expect(dabAlpha(5, 10, 0.5)).toBe(1);
    expect(dabAlpha(10, 10, 0.5)).toBe(0);
    expect(dabAlpha(12, 10, 0.5)).toBe(0);
    let prev = 1;
    for (let d = 5; d <= 10; d += 0.25) {
      const a = dabAlpha(d, 10, 0.5);
      expect(a).toBeLessThanOrEqual(prev);
      prev = a;
    }
    expect(dabAlpha(7.5, 10, 0.5)).toBeCloseTo(0.5, 10);
  });

  it('hardness 1 is a disc and hardness 0 falls off from the centre', () => {
    expect(dabAlpha(9.99, 10, 1)).toBe(1);
    expect(dabAlpha(1, 10, 0)).toBeLessThan(1);
  });
});

describe('stampDab', () => {
  it('paints a hard disc of the right area and reports a clipped dirty rect', () => {
    const w = 64;
    const m = new Uint8Array(w * w);
    const r = stampDab(m, w, w, { x: 32, y: 32 }, { size: 20, hardness: 1, mode: 'paint' });
    const painted = m.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);
    expect(painted).toBeGreaterThan(Math.PI * 100 * 0.95);
    expect(painted).toBeLessThan(Math.PI * 100 * 1.05);
    expect(m.every((v) => v === 0 || v === 255)).toBe(true);
    expect(r.x0).toBeLessThanOrEqual(22);
    expect(r.x1).toBeGreaterThanOrEqual(42);
    const edge = stampDab(m, w, w, { x: 0, y: 0 }, { size: 20, hardness: 1, mode: 'paint' });
    expect(edge.x0).toBe(0);
    expect(edge.y0).toBe(0);
  });

  it('repeated soft dabs do not build up beyond the profile (max blend)', () => {
    const w = 32;
    const once = new Uint8Array(w * w);
    const twice = new Uint8Array(w * w);
    const b = { size: 16, hardness: 0.2, mode: 'paint' as const };
    stampDab(once, w, w, { x: 16, y: 16 }, b);
    stampDab(twice, w, w, { x: 16, y: 16 }, b);
    stampDab(twice, w, w, { x: 16, y: 16 }, b);
    expect(twice).toEqual(once);
    expect(once[16 * w + 16]).toBe(255);
    expect(once[16 * w + 22]).toBeGreaterThan(0);
    expect(once[16 * w + 22]).toBeLessThan(255);
  });

  it('erase lowers coverage and leaves pixels outside the dab alone', () => {
    const w = 32;
    const m = new Uint8Array(w * w).fill(255);
    stampDab(m, w, w, { x: 8, y: 8 }, { size: 8, hardness: 1, mode: 'erase' });
    expect(m[8 * w + 8]).toBe(0);
    expect(m[20 * w + 20]).toBe(255);
  });

  it('a dab fully outside the image touches nothing', () => {
    const m = new Uint8Array(100);
    const r = stampDab(m, 10, 10, { x: -50, y: -50 }, { size: 10, hardness: 1, mode: 'paint' });
    expect(r.x1 - r.x0).toBe(0);
    expect(m.every((v) => v === 0)).toBe(true);
  });
});

describe('StrokeSpacer', () => {
  it('spaces dabs evenly regardless of how the path is split into events', () => {
    const a = new StrokeSpacer(5);
    const whole = [...a.begin({ x: 0, y: 0 }), ...a.moveTo({ x: 23, y: 0 })];
    const b = new StrokeSpacer(5);
    const split = [...b.begin({ x: 0, y: 0 })];
    for (let x = 1; x <= 23; x++) split.push(...b.moveTo({ x, y: 0 }));
    expect(whole.map((p) => p.x)).toEqual([0, 5, 10, 15, 20]);
    expect(split.map((p) => Math.round(p.x * 1e9) / 1e9)).toEqual([0, 5, 10, 15, 20]);
  });

  it('follows diagonal paths at the arc-length spacing', () => {
    const s = new StrokeSpacer(dabSpacing(8));
    s.begin({ x: 0, y: 0 });
    const pts = s.moveTo({ x: 3, y: 4 });
    expect(pts).toHaveLength(2);
    expect(Math.hypot(pts[1]!.x - pts[0]!.x, pts[1]!.y - pts[0]!.y)).toBeCloseTo(2, 10);
  });
});
