/**
 * The engine's PE-CoDi composition (adapter.onnx → backbone.onnx, plus a text adapter's v-offset)
 * must give the same v as the fused denoiser graph of the same weights: both come from one
 * network definition, so a mismatch means the engine wires the graphs differently.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { initParams, seededNormal } from '../../core/nn/params.ts';
import { adapterParamSpecs, backboneParamSpecs } from '../../core/nn/trace.ts';
import type { AdapterOptions } from '../../core/nn/unet.ts';
import type { PackManifest } from '../../core/packs/manifest.ts';
import { onnxBytes } from '../../training/export/export-onnx.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import type { PackModel } from '../../electron/engine/packs/registry.ts';
import { makeDenoiseFn } from '../../electron/engine/pipelines/denoise.ts';
import { noisyWeights, tinyNet as tiny } from './fixtures/packs.ts';

const runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });
afterAll(() => runtime.releaseAll());

function randn(length: number, seed: number): Float32Array {
  const n = seededNormal(seed);
  return Float32Array.from({ length }, () => n());
}

// makeDenoiseFn reads only the sessions; the manifest is not consulted
const manifest = {} as unknown as PackManifest;

describe('PE-CoDi graphs composed by the engine', () => {
  for (const textDim of [0, 8]) {
    it(`equal the fused denoiser (text ${textDim ? 'adapter with its v-offset' : 'none'})`, async () => {
      const opts: AdapterOptions = { condChannels: 48, textDim };
      const backbone = noisyWeights(initParams(backboneParamSpecs(tiny), 1), 11);
      const adapter = noisyWeights(initParams(adapterParamSpecs(tiny, opts), 2), 12);
      const [h, w] = [8, 8];
      const load = (kind: 'backbone' | 'adapter' | 'denoiser') => runtime.load(`${kind}-${textDim}`, onnxBytes(tiny, kind, { backbone, adapter }));
      const split: PackModel = { kind: 'adapter', manifest, adapter: await load('adapter'), backbone: await load('backbone'), instructions: null };
      const fused: PackModel = { kind: 'denoiser', manifest, denoiser: await load('denoiser'), instructions: null };
      if (textDim) expect(split.adapter.outputNames).toContain('delta');
      else expect(split.adapter.outputNames).not.toContain('delta');

      const cond = { data: randn(48 * h * w, 3), shape: [1, 48, h, w] };
      const text = textDim ? randn(textDim, 4) : null;
      const z = { data: randn(48 * h * w, 5), shape: [1, 48, h, w] };
      const a = await makeDenoiseFn(split, cond, text)(z, 700);
      const b = await makeDenoiseFn(fused, cond, text)(z, 700);
      let maxDiff = 0;
      for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs((a.data[i] as number) - (b.data[i] as number)));
      expect(maxDiff).toBeLessThan(1e-4);
      expect(Math.max(...Array.from(a.data, Math.abs))).toBeGreaterThan(0.1);
    });
  }
});
