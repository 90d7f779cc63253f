import { describe, expect, it } from 'vitest';
import { buildRunRequest, takesStrength } from './runRequest.ts';
import { pack } from './testing/fakeApi.ts';

const mask = { width: 2, height: 1, data: new Uint8Array([0, 255]) };
const base = { steps: 3, prompt: '  more contrast ', strength: 0.5, seed: 7, mask, depthMapId: 'img_depth' };

describe('run request', () => {
  it('decides once which tasks take strength', () => {
    expect((['edit', 'restore', 'custom', 'inpaint', 'depth', 'backbone'] as const).filter(takesStrength)).toEqual(['edit', 'restore', 'custom']);
  });

  it('sends strength only to tasks that take it, and only below 1', () => {
    expect(buildRunRequest(pack('e', 'edit'), base).strength).toBe(0.5);
    expect(buildRunRequest(pack('e', 'edit'), { ...base, strength: 1 }).strength).toBeUndefined();
    expect(buildRunRequest(pack('i', 'inpaint'), base).strength).toBeUndefined();
    expect(buildRunRequest(pack('d', 'depth'), base).strength).toBeUndefined();
  });

  it('sends each task what it needs and nothing else', () => {
    const edit = buildRunRequest(pack('codi-edit', 'edit', { takesText: true }), base);
    expect(edit).toEqual({ tool: 'edit', pack: 'codi-edit', imageId: '', steps: 3, seed: 7, prompt: 'more contrast', strength: 0.5 });
    const inpaint = buildRunRequest(pack('codi-inpaint', 'inpaint'), base);
    expect(inpaint.mask).toEqual(mask);
    expect(inpaint.mask?.data).not.toBe(mask.data);
    expect(inpaint.prompt).toBeUndefined();
    expect(buildRunRequest(pack('r', 'restore', { upscale: 4 }), base).scale).toBe(4);
    expect(buildRunRequest(pack('d', 'depth'), base).condition).toBe('img_depth');
    expect(buildRunRequest(pack('d', 'depth'), { ...base, depthMapId: null }).condition).toBeUndefined();
    expect(buildRunRequest(pack('b', 'backbone'), base).tool).toBe('restore');
  });
});
