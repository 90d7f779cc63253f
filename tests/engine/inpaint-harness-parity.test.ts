/**
 * The evaluation's inpaint harness (build/eval/pack-rows.ts inpaintWithPack) gives the pixels the
 * app gives: the bundled pack through the engine and through the harness, same photo, mask and
 * seed, agree to 8-bit rounding. The held-out and validation figures describe the tool users run,
 * its start temperature, samples and antithetic draws included.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import type { CodiEvent } from '../../electron/contract/schemas.ts';
import { createImageCodec } from '../../electron/engine/images/codec.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import { EngineService } from '../../electron/engine/service.ts';
import { fromInterleavedU8 } from '../../training/data/image.ts';
import { inpaintWithPack } from '../../build/eval/pack-rows.ts';

const BUNDLED = path.join(import.meta.dirname, '..', '..', 'native-models');
// a centred 128² hole: the engine's context crop (half the box around it) is the whole 256² photo
const S = 256;
let runtime: OrtRuntime;
let service: EngineService;
const events: CodiEvent[] = [];

beforeAll(async () => {
  runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });
  service = new EngineService({ packDirs: [{ path: BUNDLED, source: 'bundled' }], runtime, codec: createImageCodec({}), emit: (e) => events.push(e) });
  await service.init();
});
afterAll(async () => {
  await runtime.releaseAll();
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

    const png = await sharp(raw, { raw: { width: S, height: S, channels: 3 } }).png().toBuffer();
    const opened = await service.handlers.openImage({ source: 'bytes', bytes: new Uint8Array(png) });
    if (!opened.ok) throw new Error(opened.error.message);
    const sub = await service.handlers.runTool({ tool: 'inpaint', pack: 'codi-inpaint', imageId: opened.value.imageId, mask: { width: S, height: S, data: mask }, seed, priority: 'interactive' });
    if (!sub.ok) throw new Error(sub.error.message);
    let rgba: Uint8Array | null = null;
    while (!rgba) {
      const end = events.find((e) => (e.type === 'job-done' && e.done.jobId === sub.value.jobId) || (e.type === 'job-failed' && e.failed.jobId === sub.value.jobId));
      if (end?.type === 'job-failed') throw new Error(end.failed.message);
      if (end?.type === 'job-done') {
        expect(end.done.notes.join(' ')).toMatch(/inpainted region 256×256 at \(0, 0\)/);
        const px = await service.handlers.getImagePixels({ imageId: end.done.resultImageId });
        if (!px.ok) throw new Error(px.error.message);
        rgba = px.value.rgba;
      } else await new Promise((r) => setTimeout(r, 20));
    }

    const model = await service.registry.load('codi-inpaint');
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
