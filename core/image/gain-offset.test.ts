import { describe, it, expect } from 'vitest';
import type { F32Tensor } from '../tensor/ops.ts';
import { applyGainOffset, carryEdit, carryFromWorkingSize, estimateGainOffset, meanOfDraws, workingSize } from './gain-offset.ts';
import { resizeArea } from './resize.ts';

function image(H: number, W: number, f: (x: number, y: number, c: number) => number): F32Tensor {
  const d = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d[c * H * W + y * W + x] = f(x, y, c);
  return { data: d, shape: [1, 3, H, W] };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('gain/offset field', () => {
  // Full-res "photo": smooth shading plus fine detail (high-frequency checker) that the
  // low-resolution copy cannot hold.
  const H = 96;
  const W = 128;
  const full = image(H, W, (x, y, c) => 0.4 * Math.sin(x / 20 + c) * Math.cos(y / 25) + 0.15 * (((x + y) & 1) * 2 - 1));
  // A global tone edit: y = 0.6·x + (0.2, −0.1, 0) per channel.
  const edit = (t: F32Tensor): F32Tensor => ({ data: t.data.map((v, i) => 0.6 * v + [0.2, -0.1, 0][Math.floor(i / (t.data.length / 3))]!), shape: t.shape });

  it('recovers a global affine edit and carries it to full resolution with the detail intact', () => {
    const low = resizeArea(full, 24, 32);
    const field = estimateGainOffset(low, edit(low), { radius: 3 });
    const out = applyGainOffset(full, field);
    const want = edit(full);
    // Everywhere, including the one-pixel checker the low-res copy averaged away.
    expect(maxAbsDiff(out.data, want.data)).toBeLessThan(0.05);
    // Naive upsampling of the low-res result loses the checker; the field does not.
    expect(Math.abs(out.data[0]! - out.data[1]!)).toBeGreaterThan(0.1);
  });

  it('carries an inverted result as an inversion, not as a grey wash', () => {
    const low = resizeArea(full, 24, 32);
    const invert = (t: F32Tensor): F32Tensor => ({ data: t.data.map((v) => -v), shape: t.shape });
    const out = applyGainOffset(full, estimateGainOffset(low, invert(low), { radius: 3 }));
    expect(maxAbsDiff(out.data, invert(full).data)).toBeLessThan(0.05);
  });

  it('is the identity when the model changed nothing', () => {
    const low = resizeArea(full, 24, 32);
    const out = applyGainOffset(full, estimateGainOffset(low, low, { radius: 2 }));
    expect(maxAbsDiff(out.data, full.data)).toBeLessThan(1e-3);
  });

  it('carryEdit keeps a smooth look and drops the fine-scale errors of the model output', () => {
    const H = 48;
    const W = 48;
    const n = H * W;
    const photo = new Float32Array(3 * n).map((_, i) => 0.6 * Math.sin(i * 1.7) * Math.cos(i * 0.31));
    // the look: a warm grade plus a vignette (smooth), and the model's noisy rendering of it
    const look = photo.map((v, i) => {
      const c = Math.floor(i / n);
      const p = i % n;
      const r2 = ((p % W) / W - 0.5) ** 2 + (Math.floor(p / W) / H - 0.5) ** 2;
      return (1 - 0.8 * r2) * (v * (c === 0 ? 1.1 : 0.9) + (c === 2 ? -0.1 : 0.05));
    });
    const noisy = look.map((v, i) => v + 0.15 * Math.sin(i * 12.9898));
    const err = (a: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - (look[i] as number)) ** 2, 0) / a.length);
    const carried = carryEdit({ data: photo, shape: [1, 3, H, W] }, { data: noisy, shape: [1, 3, H, W] }, 6);
    expect(err(carried.data)).toBeLessThan(err(noisy) / 3);
  });

  it('meanOfDraws averages the draws it asks for, each once', async () => {
    const asked: number[] = [];
    const mean = await meanOfDraws(4, async (k) => {
      asked.push(k);
      return Float32Array.of(k, 2 * k);
    });
    expect(asked).toEqual([0, 1, 2, 3]);
    expect(Array.from(mean)).toEqual([1.5, 3]);
    await expect(meanOfDraws(2, async (k) => new Float32Array(k + 1))).rejects.toThrow(/expected 1/);
  });

  it('picks a working size that keeps the aspect and the alignment', () => {
    expect(workingSize(3000, 4000, 512, 16)).toEqual({ height: 384, width: 512, scaled: true });
    expect(workingSize(300, 400, 512, 16)).toEqual({ height: 300, width: 400, scaled: false });
  });
});

describe('carryFromWorkingSize', () => {
  it('runs the edit at the working size and carries its change to full size, clamped to [−1, 1]', async () => {
    const x = image(64, 48, (px, py, c) => 0.6 * Math.sin(px / 9 + py / 13 + c));
    const seen: number[][] = [];
    const out = await carryFromWorkingSize(x, { height: 16, width: 12, scaled: true }, 2, async (low) => {
      seen.push([...low.shape]);
      return { data: low.data.map((v) => 0.5 * v - 0.1), shape: [...low.shape] };
    });
    expect(seen).toEqual([[1, 3, 16, 12]]);
    expect(out.shape).toEqual([1, 3, 64, 48]);
    let err = 0;
    for (let i = 0; i < x.data.length; i++) err = Math.max(err, Math.abs((out.data[i] as number) - (0.5 * (x.data[i] as number) - 0.1)));
    expect(err).toBeLessThan(0.02);
    const bright = await carryFromWorkingSize(x, { height: 64, width: 48, scaled: false }, 2, async (input) => ({ data: input.data.map((v) => v + 3), shape: [...input.shape] }));
    expect(Math.max(...bright.data)).toBe(1);
  });
});

describe('the opponent-space carry', () => {
  const H = 64;
  const W = 64;
  // a colourful photo whose colour varies inside every 5 px window (a 3 px colour stripe)
  const photo = image(H, W, (x, y, c) => 0.5 * Math.sin(x / 9 + 2 * c) * Math.cos(y / 13) + 0.3 * ((Math.floor(x / 3) + c) % 3 === 0 ? 1 : -1));
  const greyOf = (t: F32Tensor): F32Tensor => {
    const n = (t.shape[2] as number) * (t.shape[3] as number);
    const y = Array.from({ length: n }, (_, i) => 0.2126 * t.data[i]! + 0.7152 * t.data[n + i]! + 0.0722 * t.data[2 * n + i]!);
    return { data: Float32Array.from({ length: 3 * n }, (_, i) => y[i % n]!), shape: t.shape };
  };
  /** mean over pixels of max − min of the three channels, in [−1, 1] units */
  const chroma = (t: F32Tensor): number => {
    const n = H * W;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const v = [t.data[i]!, t.data[n + i]!, t.data[2 * n + i]!];
      s += Math.max(...v) - Math.min(...v);
    }
    return s / n;
  };
  const low = resizeArea(photo, 16, 16);

  it('carries a result without colour as grey, where the per-RGB field keeps the photo\'s colour detail', async () => {
    const rgb = await carryFromWorkingSize(photo, { height: 16, width: 16, scaled: true }, 2, async (t) => greyOf(t));
    const opp = await carryFromWorkingSize(photo, { height: 16, width: 16, scaled: true }, 2, async (t) => greyOf(t), 'opponent');
    expect(chroma(photo)).toBeGreaterThan(0.5);
    expect(chroma(rgb)).toBeGreaterThan(0.1);
    expect(chroma(opp)).toBeLessThan(0.15 * chroma(rgb));
    // the luminance detail the working size never held is still the photo's
    const lumaErr = maxAbsDiff(greyOf(opp).data, greyOf(photo).data);
    expect(lumaErr).toBeLessThan(0.1);
  });

  it('is the identity when the model changed nothing, and recovers a global tone edit', () => {
    expect(maxAbsDiff(carryEdit(photo, photo, 2, 'opponent').data, photo.data)).toBeLessThan(1e-3);
    const dim = (t: F32Tensor): F32Tensor => ({ data: t.data.map((v) => 0.7 * v - 0.1), shape: t.shape });
    expect(maxAbsDiff(carryEdit(low, dim(low), 2, 'opponent').data, dim(low).data)).toBeLessThan(0.02);
  });
});
