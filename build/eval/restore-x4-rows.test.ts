import { describe, expect, it } from 'vitest';
import { createImage } from '../../training/data/image.ts';
import { resize } from '../../training/data/resample.ts';
import { cleanJpegLowRes } from '../restore/clean-jpeg.ts';
import { bicubicUpscale } from './convert.ts';
import { psnr } from './metrics.ts';
import { lanczosUnsharp } from './restore-x4-rows.ts';

function smooth(w: number, h: number) {
  const img = createImage(w, h, 3);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data[c * w * h + y * w + x] = 0.5 + 0.3 * Math.sin(x / 5 + c) * Math.cos(y / 7);
  return img;
}

describe('restore ×4 classic rows', () => {
  it('Lanczos-3 keeps a flat image flat and follows bicubic on smooth content', () => {
    const flat = createImage(8, 8, 3);
    flat.data.fill(0.4);
    const up = lanczosUnsharp(flat, 4, 1, 1);
    expect(up.width).toBe(32);
    for (const v of up.data) expect(v).toBeCloseTo(0.4, 5);
    const lr = smooth(16, 16);
    expect(psnr(lanczosUnsharp(lr, 4, 0, 0), bicubicUpscale(lr, 4))).toBeGreaterThan(35);
  });

  it('the unsharp mask raises contrast across an edge', () => {
    const step = createImage(16, 16, 3);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) step.data[c * 256 + y * 16 + x] = x < 8 ? 0.3 : 0.7;
    const plain = lanczosUnsharp(step, 4, 0, 0);
    const sharp = lanczosUnsharp(step, 4, 1.5, 1);
    const row = 32 * 64;
    // just left and right of the edge (x = 32 in the output)
    expect((sharp.data[row + 34] as number) - (sharp.data[row + 29] as number)).toBeGreaterThan((plain.data[row + 34] as number) - (plain.data[row + 29] as number) + 0.02);
  });

  it('the clean input is the bicubic downscale up to JPEG q95 loss', async () => {
    // luminance detail only: 4:2:0 chroma subsampling would dominate a colourful 16² test image
    const hr = smooth(64, 64);
    const n = 64 * 64;
    for (let i = 0; i < n; i++) hr.data[n + i] = hr.data[2 * n + i] = hr.data[i] as number;
    const lr = await cleanJpegLowRes(hr, 4);
    expect([lr.width, lr.height]).toEqual([16, 16]);
    const ref = resize(hr, 16, 16, 'bicubic');
    const p = psnr(lr, ref);
    expect(p).toBeGreaterThan(30);
    expect(p).toBeLessThan(80);
  });
});
