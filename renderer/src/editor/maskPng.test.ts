import { describe, it, expect } from 'vitest';
import { maskToRgba, rgbaToMask } from './maskPng.ts';

describe('mask PNG pixels', () => {
  it('round-trips a mask through grey RGBA', () => {
    const m = Uint8Array.from({ length: 12 }, (_, i) => i * 23);
    const rgba = maskToRgba(m, 4, 3);
    expect([...rgba.subarray(4, 8)]).toEqual([23, 23, 23, 255]);
    expect(rgbaToMask(rgba, 4, 3)).toEqual(m);
  });

  it('reads luminance from opaque colour images and alpha from cut-outs', () => {
    const opaque = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255]);
    expect([...rgbaToMask(opaque, 2, 1)]).toEqual([54, 182]);
    const cut = new Uint8Array([0, 0, 0, 0, 10, 20, 30, 200]);
    expect([...rgbaToMask(cut, 2, 1)]).toEqual([0, 200]);
    expect(() => rgbaToMask(cut, 3, 1)).toThrow();
  });
});
