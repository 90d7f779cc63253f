import { describe, it, expect } from 'vitest';
import { at } from '../at.ts';
import { shape4 } from '../tensor/layout.ts';
import { f32Tensor } from '../tensor/ops.ts';
import type { F32Tensor } from '../tensor/ops.ts';
import { resizeBicubic } from '../image/resize.ts';
import { AbortError } from '../samplers/common.ts';
import { planTiles } from './plan.ts';
import type { TilePlan } from './plan.ts';
import { normalisedAxisWeights, spanWeights, TileAccumulator } from './blend.ts';
import { seamLines, seamScore } from './seams.ts';
import { mapTiles } from './run.ts';

function smooth(C: number, H: number, W: number): F32Tensor {
  const t = f32Tensor([1, C, H, W]);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) t.data[(c * H + y) * W + x] = Math.sin(x / 9 + c) * Math.cos(y / 13);
  return t;
}

/** Numeric equality of every value (+0 and −0 count as equal). */
function sameValues(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function coverage(plan: TilePlan): Uint16Array {
  const cov = new Uint16Array(plan.paddedHeight * plan.paddedWidth);
  for (const t of plan.tiles) for (let y = t.y; y < t.y + t.h; y++) for (let x = t.x; x < t.x + t.w; x++) cov[y * plan.paddedWidth + x] = at(cov, y * plan.paddedWidth + x) + 1;
  return cov;
}

describe('planTiles', () => {
  it('by hand: 100 px, tile 64, overlap 16, align 16 → padded 112, starts 0, 48', () => {
    const p = planTiles({ height: 100, width: 40, tile: 64, overlap: 16, align: 16 });
    expect(p.paddedHeight).toBe(112);
    expect(p.ys).toEqual([{ start: 0, size: 64 }, { start: 48, size: 64 }]);
    expect(p.xs).toEqual([{ start: 0, size: 48 }]); // smaller than a tile: one padded tile
    expect(p.tiles).toHaveLength(2);
  });
  it('last tile shifted inward, stride aligned, overlap at least as asked', () => {
    const p = planTiles({ height: 300, width: 300, tile: 128, overlap: 20, align: 32 });
    // padded 320, stride floor(108/32)·32 = 96 → 0, 96, then 320 − 128 = 192
    expect(p.ys.map((s) => s.start)).toEqual([0, 96, 192]);
    for (const s of p.ys) expect(s.start % 32).toBe(0);
  });
  it('every pixel is covered, tiles are aligned and inside the padded image, odd sizes', () => {
    for (const [H, W, tile, ov, al] of [[1, 1, 64, 8, 8], [257, 33, 64, 16, 16], [511, 1023, 256, 32, 64], [65, 129, 64, 0, 4], [999, 17, 128, 100, 4]] as const) {
      const p = planTiles({ height: H, width: W, tile, overlap: ov, align: al });
      expect(p.paddedHeight % al).toBe(0);
      for (const t of p.tiles) {
        expect(t.h % al).toBe(0);
        expect(t.w % al).toBe(0);
        expect(t.y % al).toBe(0);
        expect(t.x + t.w).toBeLessThanOrEqual(p.paddedWidth);
        expect(t.y + t.h).toBeLessThanOrEqual(p.paddedHeight);
        expect(t.h).toBeLessThanOrEqual(tile);
      }
      expect(coverage(p).every((c) => c > 0)).toBe(true);
      for (const [k, s] of p.ys.entries()) if (k > 0) expect(at(p.ys, k - 1).start + at(p.ys, k - 1).size - s.start).toBeGreaterThanOrEqual(ov);
    }
  });
  it('validates its options', () => {
    expect(() => planTiles({ height: 10, width: 10, tile: 60, overlap: 0, align: 16 })).toThrow(/multiple/);
    expect(() => planTiles({ height: 10, width: 10, tile: 64, overlap: 64, align: 16 })).toThrow(/overlap/);
  });
});

describe('blending weights', () => {
  it('raised-cosine ramp across the overlap, 1 elsewhere, positive', () => {
    const spans = [{ start: 0, size: 8 }, { start: 4, size: 8 }];
    const w0 = spanWeights(spans, 0);
    const w1 = spanWeights(spans, 1);
    expect(Array.from(w0.slice(0, 4))).toEqual([1, 1, 1, 1]);
    expect(w0[4]).toBeCloseTo(0.5 - 0.5 * Math.cos((Math.PI * 3.5) / 4), 12);
    expect(w1[0]).toBeCloseTo(0.5 - 0.5 * Math.cos((Math.PI * 0.5) / 4), 12);
    for (let i = 0; i < 4; i++) expect(at(w0, 4 + i) + at(w1, i)).toBeCloseTo(1, 12); // complementary
    const n = normalisedAxisWeights(spans, 2);
    const [n0, n1] = [at(n, 0), at(n, 1)];
    expect(n0).toHaveLength(16);
    for (let i = 0; i < 8; i++) expect(at(n0, 8 + i) + at(n1, i)).toBeCloseTo(1, 14);
  });
});

describe('TileAccumulator and mapTiles', () => {
  it('blending a constant gives the constant exactly', async () => {
    const x = f32Tensor([1, 2, 150, 97]);
    x.data.fill(0.3141592);
    const out = await mapTiles(x, { tile: 64, overlap: 24, align: 8 }, (t) => t);
    expect(out.shape).toEqual([1, 2, 150, 97]);
    expect(out.data.every((v) => v === Math.fround(0.3141592))).toBe(true);
  });
  it('identity model over tiles reproduces the image bit-exactly, with progress and odd sizes', async () => {
    for (const [H, W] of [[131, 77], [64, 64], [5, 300]] as const) {
      const x = smooth(3, H, W);
      const seen: number[] = [];
      const out = await mapTiles(x, { tile: 48, overlap: 16, align: 16, onTile: (d) => seen.push(d) }, (t) => t);
      expect(sameValues(out.data, x.data)).toBe(true);
      expect(seen[seen.length - 1]).toBe(seen.length);
    }
  });
  it('×4 output tiles (bicubic "model") match the whole-image result away from tile borders and blend smoothly', async () => {
    const x = smooth(3, 70, 90);
    const whole = resizeBicubic(x, 280, 360);
    const tiled = await mapTiles(x, { tile: 32, overlap: 16, align: 8, scale: 4 }, (t) => resizeBicubic(t, shape4(t)[2] * 4, shape4(t)[3] * 4));
    expect(tiled.shape).toEqual([1, 3, 280, 360]);
    // away from the image border (where reflect padding of the tiles and edge clamping of the
    // whole image legitimately differ), tile-edge clamping is hidden by the cross-fade
    let err = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 12; y < 280 - 12; y++) {
        for (let xx = 12; xx < 360 - 12; xx++) {
          const i = (c * 280 + y) * 360 + xx;
          err = Math.max(err, Math.abs(at(whole.data, i) - at(tiled.data, i)));
        }
      }
    }
    expect(err).toBeLessThan(1e-3);
  });
  it('changes channel count (model output ≠ input channels) and checks shapes', async () => {
    const x = smooth(4, 40, 40);
    const out = await mapTiles(x, { tile: 32, overlap: 8, align: 8, outChannels: 1 }, (t) => {
      const [, , h, w] = shape4(t);
      return { data: t.data.slice(0, h * w), shape: [1, 1, h, w] };
    });
    expect(out.shape).toEqual([1, 1, 40, 40]);
    expect(sameValues(out.data, x.data.slice(0, 1600))).toBe(true);
    await expect(mapTiles(x, { tile: 32, overlap: 8, align: 8 }, (t) => ({ data: t.data, shape: [1, 4, 8, 8] }))).rejects.toThrow(RangeError);
  });
  it('aborts between tiles', async () => {
    const signal = { aborted: false };
    const run = mapTiles(smooth(1, 100, 100), { tile: 32, overlap: 8, align: 8, signal, onTile: () => (signal.aborted = true) }, (t) => t);
    await expect(run).rejects.toBeInstanceOf(AbortError);
  });
  it('keeps only a band of rows yet sums exactly as a whole-image float64 accumulator would (random tiles, ×1 and ×4, odd sizes)', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (const [H, W, tile, overlap, align, scale] of [[150, 97, 32, 8, 4, 1], [61, 130, 16, 4, 4, 4], [40, 40, 64, 8, 8, 2]] as const) {
      const plan = planTiles({ height: H, width: W, tile, overlap, align });
      const C = 2;
      const acc = new TileAccumulator(plan, C, scale);
      const PH = plan.paddedHeight * scale;
      const PW = plan.paddedWidth * scale;
      const whole = new Float64Array(C * PH * PW);
      const wy = normalisedAxisWeights(plan.ys, scale);
      const wx = normalisedAxisWeights(plan.xs, scale);
      for (const t of plan.tiles) {
        const h = t.h * scale;
        const w = t.w * scale;
        const out = f32Tensor([1, C, h, w]);
        for (let i = 0; i < out.data.length; i++) out.data[i] = rnd();
        acc.add(t, out);
        for (let c = 0; c < C; c++) {
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const a = (c * PH + t.y * scale + y) * PW + t.x * scale + x;
              whole[a] = at(whole, a) + at(at(wy, t.row), y) * at(at(wx, t.col), x) * at(out.data, (c * h + y) * w + x);
            }
          }
        }
      }
      const got = acc.result();
      const [oh, ow] = [H * scale, W * scale];
      expect(got.shape).toEqual([1, C, oh, ow]);
      const want = new Float32Array(C * oh * ow);
      for (let c = 0; c < C; c++) for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) want[(c * oh + y) * ow + x] = at(whole, (c * PH + y) * PW + x);
      expect(sameValues(got.data, want)).toBe(true);
    }
  });
  it('holds a band of float64 rows, not the whole image: buffers ≈ the float32 result plus one tile row', () => {
    const plan = planTiles({ height: 1024, width: 1024, tile: 64, overlap: 8, align: 4 });
    const resultBytes = 8 * 1024 * 1024 * 4;
    const before = process.memoryUsage().arrayBuffers;
    const acc = new TileAccumulator(plan, 8);
    const held = process.memoryUsage().arrayBuffers - before;
    // a whole-image float64 accumulator alone would be 2 × resultBytes
    expect(held).toBeLessThan(1.2 * resultBytes);
    expect(acc.channels).toBe(8);
  });
  it('add() refuses a tile of a row that has already been left', () => {
    const plan = planTiles({ height: 64, width: 64, tile: 32, overlap: 8, align: 8 });
    const acc = new TileAccumulator(plan, 1);
    const [first, second] = [at(plan.tiles, 0), at(plan.tiles, plan.xs.length)];
    acc.add(second, f32Tensor([1, 1, second.h, second.w]));
    expect(() => acc.add(first, f32Tensor([1, 1, first.h, first.w]))).toThrow(/row by row/);
  });
  it('result() refuses a plan with missing tiles; add() refuses duplicates', () => {
    const plan = planTiles({ height: 64, width: 64, tile: 32, overlap: 8, align: 8 });
    const acc = new TileAccumulator(plan, 1);
    const t = at(plan.tiles, 0);
    acc.add(t, f32Tensor([1, 1, t.h, t.w]));
    expect(() => acc.add(t, f32Tensor([1, 1, t.h, t.w]))).toThrow(/twice/);
    expect(() => acc.result()).toThrow(/never added/);
  });
});

describe('seam metric', () => {
  it('≈ 1 for a blended identity, large for a hard seam', async () => {
    const x = smooth(3, 96, 96);
    const plan = planTiles({ height: 96, width: 96, tile: 64, overlap: 16, align: 16 });
    const lines = seamLines(plan);
    expect(lines.cols).toEqual([32, 64]);
    const good = await mapTiles(x, { tile: 64, overlap: 16, align: 16 }, (t) => t);
    expect(seamScore(good, lines)).toBeGreaterThan(0.5);
    expect(seamScore(good, lines)).toBeLessThan(1.5);
    // each tile adds its own offset and no blending can hide a per-tile offset fully: hard jumps
    const bad = f32Tensor([1, 3, 96, 96], x.data.slice());
    for (let c = 0; c < 3; c++) for (let y = 0; y < 96; y++) for (let xx = 64; xx < 96; xx++) bad.data[(c * 96 + y) * 96 + xx] = at(bad.data, (c * 96 + y) * 96 + xx) + 0.5;
    expect(seamScore(bad, { rows: [], cols: [64] })).toBeGreaterThan(10);
    expect(seamScore(x, { rows: [], cols: [] })).toBe(1);
  });
});
