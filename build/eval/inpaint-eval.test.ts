import { describe, expect, it } from 'vitest';
import type { PlanarImage } from '../../training/data/image.ts';
import { criteriaAgainst, EVAL_MASK_COVERAGE, evalMask, inpaintSection, teleaCase } from './inpaint-eval.ts';
import type { InpaintCase, InpaintMeasures } from './inpaint-eval.ts';

function photo(w: number, h: number, k: number): PlanarImage {
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[c * w * h + y * w + x] = 0.5 + 0.3 * Math.sin((x + 2 * c + k) / 5) * Math.cos(y / 7);
  return { width: w, height: h, channels: 3, data };
}

const m = (psnr: number, colour: number, ratio: number): InpaintMeasures => ({ psnr, meanColourDistance: colour, gradientEnergyRatio: ratio, gmsd: 0 });

describe('inpaint eval', () => {
  it('draws a seeded mask per crop within the coverage range', () => {
    const a = evalMask('crop-1', 64, 64);
    expect(Array.from(evalMask('crop-1', 64, 64))).toEqual(Array.from(a));
    for (const id of ['crop-1', 'crop-2', 'x', 'y', 'z']) {
      const c = evalMask(id, 64, 64).reduce((s, v) => s + v, 0) / 4096;
      expect(c).toBeGreaterThanOrEqual(EVAL_MASK_COVERAGE[0]);
      expect(c).toBeLessThanOrEqual(EVAL_MASK_COVERAGE[1]);
    }
  });

  it("judges each photo against Telea's on the same photo: colour + 3, PSNR − 1 dB, energy 0.4–2", () => {
    const classic = [m(20, 5, 0.5), m(20, 5, 0.5), m(20, 5, 0.5), m(20, 5, 0.5)];
    const ours = [m(19.5, 7.9, 1), m(18.9, 1, 1), m(25, 8.1, 1), m(25, 1, 2.5)];
    expect(criteriaAgainst(ours, classic)).toEqual({ colour: 0.75, psnr: 0.75, texture: 0.75, all: 0.25 });
  });

  it('measures Telea and a pack row, and refuses a fill that changes a pixel outside the hole', async () => {
    const cases: InpaintCase[] = [0, 1].map((k) => ({ id: `c${k}`, truth: photo(32, 32, k), mask: evalMask(`c${k}`, 32, 32) }));
    const same = { label: 'classic again', source: 'test', fill: (c: InpaintCase) => Promise.resolve(teleaCase(c)) };
    const s = await inpaintSection(cases, [same, { label: 'absent', skipped: 'not installed' }], 1, () => {});
    const [telea, again, absent] = s.rows;
    expect(telea?.holePsnr).toBeGreaterThan(10);
    expect(again?.holePsnr).toBeCloseTo(telea?.holePsnr as number, 10);
    expect(again?.holePsnrSpread).toBe(0);
    expect(again?.criteria?.colour).toBe(1);
    expect(again?.criteria?.psnr).toBe(1);
    expect(absent?.skipped).toBe('not installed');
    expect(s.targets.find((t) => t.target.includes('mean hole PSNR'))?.met).toBe(true);
    const leaky = {
      label: 'leaky',
      source: 'test',
      fill: (c: InpaintCase) => {
        const out = teleaCase(c);
        const outside = c.mask.findIndex((v) => v < 0.5);
        out.data[outside] = 1 - (out.data[outside] as number);
        return Promise.resolve(out);
      },
    };
    await expect(inpaintSection(cases, [leaky], 1, () => {})).rejects.toThrow(/outside the hole/);
  });
});
