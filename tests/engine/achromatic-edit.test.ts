/**
 * The bundled edit pack lists "black and white" as achromatic (every training target is grey), so
 * the engine's result has no colour left, whatever wording reads as it; other edits keep theirs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { bundledService } from './fixtures/bundled-service.ts';
import type { BundledService } from './fixtures/bundled-service.ts';

let engine: BundledService;
beforeAll(async () => {
  engine = await bundledService();
});
afterAll(async () => {
  await engine.close();
});

/** The edit's result as RGBA bytes and the job's notes, on a 96×64 image of saturated hues. */
async function edit(prompt: string): Promise<{ rgba: Uint8Array; notes: string }> {
  const W = 96;
  const H = 64;
  const raw = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const hue = ((i % W) / W) * 2 * Math.PI;
    for (let c = 0; c < 3; c++) raw[3 * i + c] = Math.round(127.5 + 120 * Math.cos(hue - (c * 2 * Math.PI) / 3));
  }
  return engine.run(raw, W, H, { tool: 'edit', pack: 'codi-edit', prompt, seed: 3, priority: 'interactive' });
}

/** Largest difference between a pixel's channels (0 for grey). */
function maxChroma(rgba: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < rgba.length; i += 4) m = Math.max(m, Math.abs((rgba[i] as number) - (rgba[i + 1] as number)), Math.abs((rgba[i + 1] as number) - (rgba[i + 2] as number)));
  return m;
}

describe('achromatic edits', () => {
  it('gives a grey result for "black and white" and its paraphrases, with the model\'s luminance', async () => {
    for (const prompt of ['black and white', 'make it monochrome please']) {
      const { rgba, notes } = await edit(prompt);
      expect(maxChroma(rgba), prompt).toBe(0);
      expect(notes).toMatch(/every training target is grey/);
      // not a flat fill: the hues' different brightness is kept
      let lo = 255;
      let hi = 0;
      for (let i = 0; i < rgba.length; i += 4) {
        lo = Math.min(lo, rgba[i] as number);
        hi = Math.max(hi, rgba[i] as number);
      }
      expect(hi - lo).toBeGreaterThan(40);
    }
  }, 120_000);

  it('leaves the colour of other edits alone', async () => {
    const { rgba, notes } = await edit('make it warmer');
    expect(maxChroma(rgba)).toBeGreaterThan(50);
    expect(notes).not.toMatch(/training target is grey/);
  }, 120_000);
});
