import { describe, expect, it } from 'vitest';
import { chooseDenoiser, parsePrecision } from './graph-choice.ts';
import { manifestSchema } from './manifest.ts';
import type { PackFile } from './manifest.ts';

const sha = (c: string): string => c.repeat(64);
const float: PackFile = { path: 'denoiser.onnx', role: 'denoiser', sha256: sha('a'), bytes: 10 };
const int8: PackFile = { path: 'denoiser-int8.onnx', role: 'denoiser', precision: 'int8', sha256: sha('b'), bytes: 4 };

describe('chooseDenoiser', () => {
  it('runs the float graph unless int8 is asked for', () => {
    expect(chooseDenoiser([float, int8], 'cpu')?.file).toBe(float);
    expect(chooseDenoiser([int8, float], 'cpu', parsePrecision(undefined))?.file).toBe(float);
  });
  it('runs the int8 graph on the CPU provider when asked', () => {
    expect(chooseDenoiser([float, int8], 'cpu', parsePrecision('int8'))?.file).toBe(int8);
  });
  it('keeps float32 on GPU providers and for packs without an int8 graph', () => {
    expect(chooseDenoiser([float, int8], 'cuda', 'int8')?.file).toBe(float);
    expect(chooseDenoiser([float], 'cpu', 'int8')?.file).toBe(float);
  });
  it('has nothing to choose without a float denoiser', () => {
    expect(chooseDenoiser([], 'cpu', 'int8')).toBeNull();
  });
  it('reads anything but "int8" as the default', () => {
    expect(parsePrecision('INT8')).toBe('float32');
    expect(parsePrecision('')).toBe('float32');
  });
});

describe('manifest files with an int8 denoiser', () => {
  const base = {
    schema: 1, name: 'p', version: '1.0.0', title: 'P', task: 'inpaint', method: 'codi', prediction: 'v',
    schedule: { kind: 'scaled-linear', trainSteps: 1000 }, sampler: { kind: 'codi', steps: 1, maxSteps: 4 },
    latent: { kind: 'pixel-unshuffle', factor: 4 }, conditionChannels: 64, textEmbeddingDim: 0, tile: { size: 256, overlap: 32 }, modelCard: 'MODEL_CARD.md',
  };
  it('accepts a float and an int8 denoiser', () => {
    expect(manifestSchema.safeParse({ ...base, files: [float, int8] }).success).toBe(true);
  });
  it('refuses an int8 denoiser without its float original, and two of one precision', () => {
    expect(manifestSchema.safeParse({ ...base, files: [int8] }).success).toBe(false);
    expect(manifestSchema.safeParse({ ...base, files: [float, { ...float, path: 'b.onnx' }] }).success).toBe(false);
  });
});
