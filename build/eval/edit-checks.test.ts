import { describe, it, expect } from 'vitest';
import { EDIT_INSTRUCTIONS } from '../../training/data/edit-instructions.ts';
import { applyEdit } from '../../training/data/edits.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { checkEdit, EDIT_INDICATORS, editTargets, summariseEdit } from './edit-checks.ts';

/** A colourful, textured 32 × 32 test image in [0.1, 0.9]. */
function photoLike(): PlanarImage {
  const w = 32;
  const h = 32;
  const data = new Float32Array(3 * w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      data[i] = 0.1 + 0.8 * (x / (w - 1));
      data[w * h + i] = 0.1 + 0.8 * (((x * 5 + y * 3) % 16) / 15);
      data[2 * w * h + i] = 0.1 + 0.8 * (y / (h - 1));
    }
  }
  return { width: w, height: h, channels: 3, data };
}

describe('edit checks', () => {
  it('covers every known edit', () => {
    for (const e of EDIT_INSTRUCTIONS) expect(EDIT_INDICATORS[e.id]).toBeDefined();
  });

  it('passes the procedural edit itself and fails an unchanged image, for every edit', () => {
    const src = photoLike();
    for (const e of EDIT_INSTRUCTIONS) {
      const good = checkEdit(e.id, src, applyEdit(e.id, src));
      expect(good.moved, `${e.id} procedural should move ${good.indicator}`).toBe(true);
      expect(good.closer, e.id).toBe(true);
      const none = checkEdit(e.id, src, src);
      expect(none.moved && none.closer, `${e.id} unchanged should fail`).toBe(false);
    }
  });

  it('measures the documented direction: dark lowers luminance, black and white removes chroma', () => {
    const src = photoLike();
    const dark = checkEdit('dark', src, applyEdit('dark', src));
    expect(dark.output).toBeLessThan(dark.source);
    const bw = checkEdit('black_and_white', src, applyEdit('black_and_white', src));
    expect(bw.output).toBeLessThan(0.01);
    expect(bw.edgeSsim).toBeGreaterThan(0.5);
  });

  it('fails an edit that goes the wrong way', () => {
    const src = photoLike();
    const wrong = checkEdit('dark', src, applyEdit('brighter', src));
    expect(wrong.moved).toBe(false);
    const s = summariseEdit('dark', 'make it dark', [wrong, checkEdit('dark', src, applyEdit('dark', src))], 5);
    expect(s.passRate).toBeCloseTo(0.5, 12);
    expect(s.images).toBe(2);
  });

  it('judges the issue targets per edit over all its wordings, and "black and white" by its chroma', () => {
    const src = photoLike();
    const grey = checkEdit('black_and_white', src, applyEdit('black_and_white', src));
    const tinted = checkEdit('black_and_white', src, applyEdit('vivid', src));
    const dark = checkEdit('dark', src, applyEdit('dark', src));
    const allGood = editTargets([summariseEdit('black_and_white', 'black and white', [grey, grey], 1), summariseEdit('dark', 'make it dark', [dark], 1)]);
    expect(allGood.map((t) => t.met)).toEqual([true, true]);
    // one wording passes on 2 of 2 photos, a paraphrase on 1 of 2: pooled 3 of 4 = 75 %, below 90 %
    const pooled = editTargets([
      summariseEdit('black_and_white', 'black and white', [grey, grey], 1),
      summariseEdit('black_and_white', 'monochrome', [grey, tinted], 1),
    ]);
    expect(pooled[0]?.met).toBe(false);
    expect(pooled[0]?.detail).toContain('black_and_white 75 %');
    expect(pooled[1]?.met).toBe(false);
    expect(editTargets([])).toEqual([]);
  });
});
