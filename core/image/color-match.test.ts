import { describe, it, expect } from 'vitest';
import { matchFillColors } from './color-match.ts';

function plane(H: number, W: number, f: (x: number, y: number, c: number) => number) {
  const d = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d[c * H * W + y * W + x] = f(x, y, c);
  return { data: d, shape: [1, 3, H, W] };
}

describe('matchFillColors', () => {
  const H = 40;
  const W = 40;
  const mask = new Float32Array(H * W);
  for (let y = 10; y < 30; y++) for (let x = 10; x < 30; x++) mask[y * W + x] = 1;
  // Surroundings: mid grey with texture; the fill: a colour cast (+0.3) and half the contrast.
  const tex = (x: number, y: number) => 0.2 * Math.sin(x * 1.3 + y * 0.7);
  const orig = plane(H, W, (x, y) => tex(x, y));
  const gen = plane(H, W, (x, y, c) => 0.3 + (c === 0 ? 0.1 : 0) + 0.5 * tex(x, y));

  it('moves the fill at the edge to the ring statistics and leaves the deep interior alone', () => {
    const r = matchFillColors(gen, orig, mask, { ringPx: 3, featherPx: 4 });
    expect(r.corrections).not.toBeNull();
    const k = r.corrections![0]!;
    expect(k.gain).toBeGreaterThan(1.5);
    expect(Math.abs(k.refMean)).toBeLessThan(0.1);
    expect(k.srcMean).toBeGreaterThan(0.3);
    // Edge row of the fill: corrected fully, so close to the outside statistics.
    const edge = 10 * W + 20;
    expect(Math.abs(r.image.data[edge]! - orig.data[edge]!)).toBeLessThan(0.1);
    // Centre (10 px deep, feather 4): bit-identical to the generated value.
    const centre = 20 * W + 20;
    for (let c = 0; c < 3; c++) expect(r.image.data[c * H * W + centre]).toBe(gen.data[c * H * W + centre]);
    // Outside the mask: the generated tensor is returned unchanged there (caller pastes inside only).
    expect(r.image.data[0]).toBe(gen.data[0]);
  });

  it('returns the input unchanged when a ring is empty', () => {
    const full = new Float32Array(H * W).fill(1);
    const r = matchFillColors(gen, orig, full, { ringPx: 3, featherPx: 4 });
    expect(r.corrections).toBeNull();
    expect(r.image.data).toEqual(gen.data);
  });
});
