import { describe, it, expect } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { createImage, luminance } from './image.ts';
import type { PlanarImage } from './image.ts';
import { achromaticEdits, applyEdit, EDIT_INSTRUCTIONS, findEditByText, heldOutPhrases, trainingPhrases } from './edits.ts';
import type { EditId } from './edits.ts';

function photoLike(seed: number): PlanarImage {
  const rng = new Rng(seed);
  const w = 32, h = 24, n = w * h;
  const img = createImage(w, h, 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const base = 0.2 + 0.6 * (x / w);
    img.data[y * w + x] = Math.min(1, base * 0.9 + 0.1 * rng.uniform());
    img.data[n + y * w + x] = Math.min(1, 0.3 + 0.4 * (y / h) + 0.1 * rng.uniform());
    img.data[2 * n + y * w + x] = Math.min(1, 0.7 - 0.4 * (x / w) + 0.1 * rng.uniform());
  }
  return img;
}

const mean = (a: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] as number; return s / a.length; };
const std = (a: ArrayLike<number>): number => { const m = mean(a); let s = 0; for (let i = 0; i < a.length; i++) s += ((a[i] as number) - m) ** 2; return Math.sqrt(s / a.length); };
const channel = (img: PlanarImage, c: number): Float32Array => img.data.subarray(c * img.width * img.height, (c + 1) * img.width * img.height);
/** mean |R−G| + |G−B| per pixel: zero for grey images */
const chroma = (img: PlanarImage): number => {
  const r = channel(img, 0), g = channel(img, 1), b = channel(img, 2);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += Math.abs((r[i] as number) - (g[i] as number)) + Math.abs((g[i] as number) - (b[i] as number));
  return s / r.length;
};

describe('instruction edits', () => {
  const src = photoLike(1);
  const y0 = mean(luminance(src));
  const e = (id: EditId): PlanarImage => applyEdit(id, src);

  it('make it dark / night lower the mean luminance; brighter raises it', () => {
    expect(mean(luminance(e('dark')))).toBeLessThan(0.7 * y0);
    expect(mean(luminance(e('night')))).toBeLessThan(0.5 * y0);
    expect(mean(luminance(e('brighter')))).toBeGreaterThan(y0 + 0.05);
  });

  it('black and white removes chroma; desaturate reduces it; vivid increases it', () => {
    expect(chroma(e('black_and_white'))).toBeLessThan(1e-6);
    expect(chroma(e('desaturate'))).toBeLessThan(0.5 * chroma(src));
    expect(chroma(e('vivid'))).toBeGreaterThan(1.3 * chroma(src));
  });

  it('warmer shifts towards red, cooler towards blue; night is bluish', () => {
    const rb = (img: PlanarImage): number => mean(channel(img, 0)) - mean(channel(img, 2));
    expect(rb(e('warmer'))).toBeGreaterThan(rb(src) + 0.05);
    expect(rb(e('cooler'))).toBeLessThan(rb(src) - 0.05);
    expect(mean(channel(e('night'), 2))).toBeGreaterThan(mean(channel(e('night'), 0)));
  });

  it('contrast edits change the luminance spread in the asked direction; fog flattens it', () => {
    const s0 = std(luminance(src));
    expect(std(luminance(e('more_contrast')))).toBeGreaterThan(1.3 * s0);
    expect(std(luminance(e('less_contrast')))).toBeLessThan(0.7 * s0);
    expect(std(luminance(e('foggy')))).toBeLessThan(0.75 * s0);
  });

  it('sepia gives R ≥ G ≥ B everywhere; invert is an involution; vignette darkens corners only', () => {
    const s = e('sepia');
    const [r, g, b] = [channel(s, 0), channel(s, 1), channel(s, 2)];
    for (let i = 0; i < r.length; i++) {
      expect(r[i]).toBeGreaterThanOrEqual(g[i] as number);
      expect(g[i]).toBeGreaterThanOrEqual(b[i] as number);
    }
    const back = applyEdit('invert', e('invert'));
    back.data.forEach((v, i) => expect(v).toBeCloseTo(src.data[i] as number, 6));
    const vg = e('vignette');
    const w = src.width;
    const centre = (src.height / 2) * w + w / 2;
    expect(vg.data[0]).toBeLessThan(0.6 * (src.data[0] as number));
    expect(vg.data[centre]).toBeGreaterThan(0.98 * (src.data[centre] as number));
  });

  it('sunset warms the image and brightens its top', () => {
    const s = e('sunset');
    expect(mean(channel(s, 0)) - mean(channel(s, 2))).toBeGreaterThan(mean(channel(src, 0)) - mean(channel(src, 2)) + 0.1);
  });

  it('every edit is deterministic, stays in [0, 1] and changes the image', () => {
    for (const ed of EDIT_INSTRUCTIONS) {
      const a = applyEdit(ed.id, src);
      const b = applyEdit(ed.id, src);
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
      expect(Math.min(...a.data)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...a.data)).toBeLessThanOrEqual(1);
      let diff = 0;
      a.data.forEach((v, i) => (diff += Math.abs(v - (src.data[i] as number))));
      expect(diff / a.data.length).toBeGreaterThan(0.01);
    }
  });

  it('the instruction table has ≥ 12 edits, unique wordings, ≥ 3 training and ≥ 1 held-out paraphrases each', () => {
    expect(EDIT_INSTRUCTIONS.length).toBeGreaterThanOrEqual(12);
    const all = EDIT_INSTRUCTIONS.flatMap((x) => x.paraphrases.map((p) => p.text.toLowerCase()));
    expect(new Set(all).size).toBe(all.length);
    for (const ed of EDIT_INSTRUCTIONS) {
      expect(trainingPhrases(ed).length).toBeGreaterThanOrEqual(3);
      expect(heldOutPhrases(ed).length).toBeGreaterThanOrEqual(1);
      expect(trainingPhrases(ed)).toContain(ed.instruction);
      expect(findEditByText(`  ${ed.instruction.toUpperCase()} `)?.id).toBe(ed.id);
    }
    for (const required of ['make it dark', 'make it sunset', 'black and white', 'warmer', 'cooler', 'more contrast', 'vintage', 'make it night', 'brighter', 'sepia', 'desaturate', 'make it foggy']) {
      expect(findEditByText(required)).toBeDefined();
    }
  });
});

describe('achromaticEdits', () => {
  it('finds exactly the edits whose procedural result is grey', () => {
    expect(achromaticEdits()).toEqual(['black_and_white']);
  });
});
