import { describe, it, expect } from 'vitest';
import { f32Tensor } from './tensor/ops.ts';
import { pixelUnshuffle } from './tensor/layout.ts';
import { resizeBicubic } from './image/resize.ts';
import { teleaFill } from './image/telea.ts';
import {
  buildCondition,
  conditionChannels,
  customCondition,
  depthCondition,
  editCondition,
  inpaintCondition,
  restoreCondition,
} from './conditions.ts';

const img = (B: number, C: number, H: number, W: number) =>
  f32Tensor([B, C, H, W], Float32Array.from({ length: B * C * H * W }, (_, i) => Math.sin(i * 0.37)));

describe('conditions (CONVENTIONS.md)', () => {
  it('channel counts per task', () => {
    expect(['backbone', 'restore', 'inpaint', 'edit', 'depth', 'custom'].map((t) => conditionChannels(t as never))).toEqual([0, 48, 64, 48, 16, 48]);
  });
  it('restore ×4: bicubic upsample to the output size, then unshuffle → 48 channels', () => {
    const low = img(1, 3, 8, 6);
    const c = restoreCondition(low, 32, 24);
    expect(c.shape).toEqual([1, 48, 8, 6]);
    expect(Array.from(c.data)).toEqual(Array.from(pixelUnshuffle(resizeBicubic(low, 32, 24), 4).data));
    expect(() => restoreCondition(img(1, 1, 8, 8), 32, 32)).toThrow(/3 channel/);
    // built plane by plane: a batch of two gives the whole-tensor resize + unshuffle, value for value
    const two = img(2, 3, 7, 5);
    expect(Array.from(restoreCondition(two, 28, 20).data)).toEqual(Array.from(pixelUnshuffle(resizeBicubic(two, 28, 20), 4).data));
  });
  it('inpaint: pixels under the mask are 0, mask appended → 64 channels', () => {
    const im = img(1, 3, 8, 8);
    const mask = f32Tensor([1, 1, 8, 8]);
    mask.data[0] = 1; // pixel (0, 0): fill
    mask.data[9] = 0.7; // pixel (1, 1): soft mask → binarised to fill
    mask.data[10] = 0.3; // pixel (1, 2): keep
    const c = inpaintCondition(im, mask);
    expect(c.shape).toEqual([1, 64, 2, 2]);
    const plane = 4;
    // channel (c=0, dy=0, dx=0) at latent (0, 0) is pixel (0, 0) of R → zeroed
    expect(c.data[0]).toBe(0);
    // channel (c=0, dy=1, dx=1) = 5 at latent (0, 0) is pixel (1, 1) → zeroed
    expect(c.data[5 * plane]).toBe(0);
    // channel (c=0, dy=1, dx=2) = 6 is pixel (1, 2) → kept
    expect(c.data[6 * plane]).toBe(im.data[10]);
    // G plane of pixel (0,0): channel 16 → zeroed; mask channels 48.. hold the binary mask
    expect(c.data[16 * plane]).toBe(0);
    expect(c.data[48 * plane]).toBe(1);
    expect(c.data[(48 + 5) * plane]).toBe(1);
    expect(c.data[(48 + 6) * plane]).toBe(0);
    // kept pixels are unchanged elsewhere
    expect(c.data[1]).toBe(im.data[4]);
  });
  it("inpaint, holeFill 'telea': the hole carries the classic fill (= the residual base), the rest and the mask are unchanged", () => {
    const im = img(2, 3, 16, 16);
    const mask = f32Tensor([1, 1, 16, 16]);
    for (let y = 4; y < 11; y++) for (let x = 5; x < 12; x++) mask.data[y * 16 + x] = 0.8;
    const zero = inpaintCondition(im, mask);
    const telea = inpaintCondition(im, mask, 4, 'telea');
    const binary = f32Tensor([1, 1, 16, 16], mask.data.map((v) => (v >= 0.5 ? 1 : 0)));
    const expected = pixelUnshuffle(teleaFill(im, binary), 4);
    const per = 64 * 16;
    for (let b = 0; b < 2; b++) {
      expect(Array.from(telea.data.subarray(b * per, b * per + 48 * 16))).toEqual(Array.from(expected.data.subarray(b * 48 * 16, (b + 1) * 48 * 16)));
      expect(Array.from(telea.data.subarray(b * per + 48 * 16, (b + 1) * per))).toEqual(Array.from(zero.data.subarray(b * per + 48 * 16, (b + 1) * per)));
    }
    // the fill is not the zeroed hole, and buildCondition passes the choice through
    expect(telea.data.some((v, i) => v !== zero.data[i])).toBe(true);
    expect(Array.from(buildCondition({ task: 'inpaint', image: im, mask, holeFill: 'telea' }).data)).toEqual(Array.from(telea.data));
    expect(Array.from(buildCondition({ task: 'inpaint', image: im, mask }).data)).toEqual(Array.from(zero.data));
  });
  it('inpaint: one mask broadcasts over a batch; mismatched sizes throw', () => {
    const c = inpaintCondition(img(2, 3, 4, 4), f32Tensor([1, 1, 4, 4]));
    expect(c.shape).toEqual([2, 64, 1, 1]);
    expect(() => inpaintCondition(img(1, 3, 4, 4), f32Tensor([1, 1, 8, 8]))).toThrow(RangeError);
  });
  it('edit, custom (48) and depth (16) are plain unshuffles', () => {
    const s = img(1, 3, 8, 8);
    expect(Array.from(editCondition(s).data)).toEqual(Array.from(pixelUnshuffle(s, 4).data));
    expect(customCondition(s).shape).toEqual([1, 48, 2, 2]);
    const d = img(1, 1, 8, 8);
    expect(depthCondition(d).shape).toEqual([1, 16, 2, 2]);
    expect(() => depthCondition(s)).toThrow(/1 channel/);
  });
  it('buildCondition dispatches per task', () => {
    const s = img(1, 3, 8, 8);
    expect(buildCondition({ task: 'edit', source: s }).shape).toEqual([1, 48, 2, 2]);
    expect(buildCondition({ task: 'restore', lowRes: img(1, 3, 4, 4), outHeight: 8, outWidth: 8 }).shape).toEqual([1, 48, 2, 2]);
    expect(buildCondition({ task: 'depth', depth: img(1, 1, 8, 8) }).shape).toEqual([1, 16, 2, 2]);
  });
});
