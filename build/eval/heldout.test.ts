import { describe, it, expect } from 'vitest';
import { EVALUATION_RESERVED_PACKAGES } from '../../training/data/photo-sources.ts';
import { bicubicDegrader, cropPositions } from './heldout.ts';
import { candidateKey, dep5Matches, EVAL_ALLOW_LIST, EVAL_PACKAGES } from './heldout-sources.ts';

describe('held-out sources', () => {
  it('uses exactly the packages the training data refuses', () => {
    expect(EVAL_PACKAGES.map((p) => p.name).sort()).toEqual([...EVALUATION_RESERVED_PACKAGES].sort());
    for (const key of Object.keys(EVAL_ALLOW_LIST)) expect(EVALUATION_RESERVED_PACKAGES).toContain(key.split(':')[0]);
  });

  it('keys plasma wallpapers by folder and opencv files by path', () => {
    expect(candidateKey('plasma-workspace-wallpapers', 'Path/contents/images/2560x1600.jpg')).toBe('plasma-workspace-wallpapers:Path');
    expect(candidateKey('opencv-doc', 'data/baboon.jpg')).toBe('opencv-doc:data/baboon.jpg');
  });

  it('maps installed opencv examples to upstream samples and matches DEP-5 globs from the start', () => {
    const opencv = EVAL_PACKAGES.find((p) => p.name === 'opencv-doc');
    expect(opencv?.upstreamPath('usr/share/doc/opencv-doc/examples/data/baboon.jpg')).toBe('samples/data/baboon.jpg');
    expect(dep5Matches('*', 'samples/data/baboon.jpg')).toBe(true);
    // upstream data/* (cascades) must not capture samples/data/*
    expect(dep5Matches('data/*', 'samples/data/baboon.jpg')).toBe(false);
    expect(dep5Matches('samples/data/*', 'samples/data/baboon.jpg')).toBe(true);
  });
});

describe('crops and degradation', () => {
  it('puts the first crop in the centre and keeps every crop inside the image', () => {
    const pos = cropPositions(768, 512, 256, 3);
    expect(pos[0]).toEqual({ left: 256, top: 128 });
    expect(pos).toHaveLength(3);
    for (const p of pos) {
      expect(p.left).toBeGreaterThanOrEqual(0);
      expect(p.top).toBeGreaterThanOrEqual(0);
      expect(p.left + 256).toBeLessThanOrEqual(768);
      expect(p.top + 256).toBeLessThanOrEqual(512);
    }
    // an image the size of the crop has one position only
    expect(cropPositions(256, 256, 256, 5)).toEqual([{ left: 0, top: 0 }]);
  });

  it('bicubic degradation divides the size by the scale', async () => {
    const hr = { width: 32, height: 16, channels: 3, data: new Float32Array(3 * 32 * 16).fill(0.25) };
    const { lr } = await bicubicDegrader(hr, 4, 'x');
    expect([lr.width, lr.height]).toEqual([8, 4]);
    expect(lr.data[0]).toBeCloseTo(0.25, 5);
  });
});
