import { describe, it, expect } from 'vitest';
import { f32Tensor } from './ops.ts';
import {
  u8HwcToNchw,
  u16HwcToNchw,
  nchwToU8Hwc,
  nchwToU16Hwc,
  rgbToGrey,
  u8MaskToNchw,
  pixelUnshuffle,
  pixelShuffle,
  crop,
  pad,
  padToMultiple,
  concatChannels,
} from './layout.ts';

describe('integer HWC ↔ float NCHW', () => {
  it('RGBA 8-bit → [1,3,H,W] in [−1,1], alpha dropped', () => {
    const rgba = Uint8Array.from([0, 255, 51, 7, 255, 0, 102, 9]); // 1×2
    const t = u8HwcToNchw(rgba, 1, 2, 4);
    expect(t.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(t.data)).toEqual([-1, 1, 1, -1, 51 / 127.5 - 1, 102 / 127.5 - 1].map(Math.fround));
  });
  it('every 8-bit value round-trips exactly (RGB, grey, RGBA with opaque alpha)', () => {
    const rgb = Uint8Array.from({ length: 256 * 3 }, (_, i) => i % 256);
    expect(Array.from(nchwToU8Hwc(u8HwcToNchw(rgb, 16, 16, 3), 3))).toEqual(Array.from(rgb));
    const grey = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(nchwToU8Hwc(u8HwcToNchw(grey, 16, 16, 1), 1))).toEqual(Array.from(grey));
    const rgba = nchwToU8Hwc(u8HwcToNchw(rgb, 16, 16, 3), 4);
    expect(rgba[3]).toBe(255);
    expect(rgba[4]).toBe(rgb[3]);
  });
  it('rounds and clamps on the way back, NaN → 0', () => {
    const t = f32Tensor([1, 1, 1, 5], Float32Array.from([-3, 2, 0, 0.5 / 127.5 - 1 + 1e-6, NaN]));
    expect(Array.from(nchwToU8Hwc(t, 1))).toEqual([0, 255, 128, 1, 0]);
    expect(Array.from(nchwToU8Hwc(t, 3).slice(0, 6))).toEqual([0, 0, 0, 255, 255, 255]); // grey replicated
  });
  it('16-bit round trip and scale', () => {
    const src = Uint16Array.from([0, 65535, 32768, 1, 40000, 12345]);
    const t = u16HwcToNchw(src, 1, 2, 3);
    expect(t.data[0]).toBe(-1);
    expect(t.data[2]).toBe(1); // second pixel's R is channel 0 index 1
    expect(Array.from(nchwToU16Hwc(t, 3))).toEqual(Array.from(src));
  });
  it('grey conversion and masks', () => {
    const t = f32Tensor([1, 3, 1, 1], Float32Array.from([1, 0, -1]));
    expect(rgbToGrey(t).data[0]).toBeCloseTo(0.299 - 0.114, 6);
    const m = u8MaskToNchw(Uint8Array.from([0, 127, 128, 255]), 2, 2);
    expect(Array.from(m.data)).toEqual([0, 0, 1, 1]);
  });
  it('rejects wrong buffer sizes', () => {
    expect(() => u8HwcToNchw(new Uint8Array(5), 1, 2, 3)).toThrow(RangeError);
  });
});

describe('pixel (un)shuffle', () => {
  it('channel index = c·r² + dy·r + dx (torch order), by hand', () => {
    // 1×1×2×2 image [[a, b], [c, d]] → 4 channels [a, b, c, d]
    const x = f32Tensor([1, 1, 2, 2], Float32Array.from([1, 2, 3, 4]));
    expect(Array.from(pixelUnshuffle(x, 2).data)).toEqual([1, 2, 3, 4]);
    // 2 channels, 2×4, r=2 → [1, 8, 1, 2]; channel 1·4 + 1·2 + 0 = 6 holds x[1, 1, 0], x[1, 1, 2]
    const y = f32Tensor([1, 2, 2, 4], Float32Array.from({ length: 16 }, (_, i) => i));
    const u = pixelUnshuffle(y, 2);
    expect(u.shape).toEqual([1, 8, 1, 2]);
    expect([u.data[12], u.data[13]]).toEqual([8 + 4, 8 + 6]);
  });
  it('shuffle is the exact inverse, r = 4, batch 2, 48 channels', () => {
    const x = f32Tensor([2, 3, 8, 12], Float32Array.from({ length: 2 * 3 * 96 }, (_, i) => Math.sin(i)));
    const u = pixelUnshuffle(x, 4);
    expect(u.shape).toEqual([2, 48, 2, 3]);
    expect(Array.from(pixelShuffle(u, 4).data)).toEqual(Array.from(x.data));
    expect(() => pixelUnshuffle(f32Tensor([1, 1, 6, 8]), 4)).toThrow(RangeError);
  });
});

describe('crop, pad, concat', () => {
  const x = f32Tensor([1, 1, 3, 4], Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
  it('crop', () => {
    expect(Array.from(crop(x, 1, 1, 2, 2).data)).toEqual([5, 6, 9, 10]);
    expect(() => crop(x, 2, 0, 2, 1)).toThrow(RangeError);
  });
  it('reflect / edge / zero padding by hand', () => {
    const p = pad(x, { top: 1, bottom: 0, left: 2, right: 1 }, 'reflect');
    expect(p.shape).toEqual([1, 1, 4, 7]);
    expect(Array.from(p.data.slice(0, 7))).toEqual([6, 5, 4, 5, 6, 7, 6]); // row −1 reflects row 1
    const e = pad(x, { top: 0, bottom: 1, left: 0, right: 2 }, 'edge');
    expect(Array.from(e.data.slice(12, 18))).toEqual([8, 9, 10, 11, 11, 11]);
    expect(Array.from(e.data.slice(18, 24))).toEqual([8, 9, 10, 11, 11, 11]);
    const z = pad(x, { top: 1, bottom: 0, left: 0, right: 0 }, 'zero');
    expect(Array.from(z.data.slice(0, 8))).toEqual([0, 0, 0, 0, 0, 1, 2, 3]);
  });
  it('reflect padding wider than the image folds back and forth', () => {
    const r = f32Tensor([1, 1, 1, 3], Float32Array.from([0, 1, 2]));
    expect(Array.from(pad(r, { top: 0, bottom: 0, left: 5, right: 5 }).data)).toEqual([1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1]);
  });
  it('padToMultiple pads bottom/right and crops back exactly', () => {
    const { tensor, padding } = padToMultiple(x, 4);
    expect(tensor.shape).toEqual([1, 1, 4, 4]);
    expect(padding).toEqual({ top: 0, left: 0, bottom: 1, right: 0 });
    expect(Array.from(crop(tensor, 0, 0, 3, 4).data)).toEqual(Array.from(x.data));
  });
  it('concatChannels per batch item', () => {
    const a = f32Tensor([2, 1, 1, 1], Float32Array.from([1, 2]));
    const b = f32Tensor([2, 2, 1, 1], Float32Array.from([3, 4, 5, 6]));
    expect(Array.from(concatChannels([a, b]).data)).toEqual([1, 3, 4, 2, 5, 6]);
  });
});
