import { describe, expect, it } from 'vitest';
import type { PackInfo } from '../engine-client/index.ts';
import { ToolSettings } from './toolSettings.svelte.ts';
import { pack } from './testing/fakeApi.ts';

function settings(tools: PackInfo[]): ToolSettings {
  return new ToolSettings(() => tools);
}

describe('ToolSettings', () => {
  it("starts a tool on its default steps, within its manifest's limit", () => {
    const t = settings([pack('a', 'restore', { steps: { default: 4, max: 8 } }), pack('b', 'restore', { steps: { default: 6, max: 3 } })]);
    expect(t.select('a')).toBe(true);
    expect(t.steps).toBe(4);
    expect(t.stepChoices).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    t.select('b');
    expect(t.steps).toBe(3);
    expect(t.stepChoices).toEqual([1, 2, 3]);
    expect(t.select('missing')).toBe(false);
    expect(t.selectedPack).toBe('b');
  });

  it('keeps a restored step count within the selected pack', () => {
    const t = settings([pack('a', 'edit', { steps: { default: 2, max: 4 } })]);
    t.select('a');
    t.setSteps(9);
    expect(t.steps).toBe(4);
    t.setSteps(3);
    expect(t.steps).toBe(3);
  });

  it("fills an empty instruction with the tool's default, but never replaces a typed one", () => {
    const edit = pack('codi-edit', 'edit', { takesText: true, instructions: ['make it dark', 'more contrast'] });
    const t = settings([edit]);
    t.select('codi-edit');
    expect(t.prompt).toBe('more contrast');
    t.prompt = 'warmer';
    t.select('codi-edit');
    expect(t.prompt).toBe('warmer');
  });

  it('answers strength, mask and scale questions from the selected pack', () => {
    const t = settings([pack('x2', 'restore', { upscale: 2 }), pack('x4', 'restore', { upscale: 4, status: 'invalid' }), pack('fill', 'inpaint')]);
    expect(t.takesStrength).toBe(false);
    t.select('x2');
    expect(t.takesStrength).toBe(true);
    expect(t.needsMask).toBe(false);
    expect(t.scaleChoices).toEqual([{ scale: 1, pack: null }, { scale: 2, pack: 'x2' }, { scale: 4, pack: null }]);
    t.select('fill');
    expect(t.takesStrength).toBe(false);
    expect(t.needsMask).toBe(true);
  });

  it('keeps the selected tool as the answer for its own scale when two restore tools share it', () => {
    const t = settings([pack('upscale', 'restore', { upscale: 4 }), pack('restore', 'restore', { upscale: 4 }), pack('x2', 'restore', { upscale: 2 })]);
    t.select('restore');
    expect(t.scaleChoices).toEqual([{ scale: 1, pack: null }, { scale: 2, pack: 'x2' }, { scale: 4, pack: 'restore' }]);
    t.select('x2');
    expect(t.scaleChoices[2]).toEqual({ scale: 4, pack: 'upscale' });
  });

  it('picks the default tool only when none is chosen', () => {
    const tools = [pack('d', 'depth'), pack('e', 'edit')];
    const t = settings(tools);
    expect(t.ensureSelected()).toBe(true);
    expect(t.selectedPack).toBe('e');
    expect(t.ensureSelected()).toBe(false);
  });
});
