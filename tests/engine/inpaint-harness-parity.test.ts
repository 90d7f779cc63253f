/**
 * The evaluation's inpaint harness (build/eval/pack-rows.ts inpaintWithPack) gives the pixels the
 * app gives: the bundled pack through the engine and through the harness, same photo, mask and
 * seed, agree to 8-bit rounding. The held-out and validation figures describe the tool users run,
 * its start temperature, samples and antithetic draws included.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { fromInterleavedU8 } from '../../training/data/image.ts';
import { inpaintWithPack } from '../../build/eval/pack-rows.ts';
import { bundledService } from './fixtures/bundled-service.ts';
import type { BundledService } from './fixtures/bundled-service.ts';

// a centred 128² hole: the engine's context crop (half the box around it) is the whole 256² photo
const S = 256;
let engine: BundledService;
beforeAll(async () => {
  engine = await bundledService();
});
afterAll(async () => {
  await engine.close();
});

describe('inpaint harness', () => {
  it('matches the engine pixel for pixel, to 8-bit rounding', async () => {
    const raw = new Uint8Array(S * S * 3);
    for (let i = 0; i < S * S; i++) {
      const x = i % S;
      const y = Math.floor(i / S);
      raw[3 * i] = (x * 7 + y) % 256;
      raw[3 * i + 1] = Math.round(128 + 100 * Math.sin(x / 9) * Math.cos(y / 13));
      raw[3 * i + 2] = (y * 3) % 256;
    }
    const mask = new Uint8Array(S * S);
    for (let y = 64; y < 192; y++) for (let x = 64; x < 192; x++) mask[y * S + x] = 255;
    const seed = 11;

    const { rgba, notes } = await engine.run(raw, S, S, { tool: 'inpaint', pack: 'codi-inpaint', mask: { width: S, height: S, data: mask }, seed, priority: 'interactive' });
    expect(notes).toMatch(/inpainted region 256×256 at \(0, 0\)/);

    const model = await engine.service.registry.load('codi-inpaint');
    const planar = await inpaintWithPack(model, fromInterleavedU8(raw, S, S, 3), Float32Array.from(mask, (v) => (v ? 1 : 0)), seed);
    let worst = 0;
    let inside = 0;
    for (let i = 0; i < S * S; i++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs((rgba[4 * i + c] as number) - Math.round((planar.data[c * S * S + i] as number) * 255)));
      if (mask[i]) inside += Math.abs((rgba[4 * i] as number) - (raw[3 * i] as number));
    }
    expect(worst).toBeLessThanOrEqual(1);
    // and the hole was really filled by the model, not left as it was
    expect(inside / (128 * 128)).toBeGreaterThan(5);
  }, 120_000);
});
