import { describe, it, expect } from 'vitest';
import { History } from '../history.ts';
import { MaskLayer } from '../mask.ts';
import { clearMask, invertMask } from '../maskActions.ts';
import { BrushTool } from './brushTool.ts';

function setup(w = 128, h = 96) {
  const mask = new MaskLayer(w, h);
  const history = new History();
  const tool = new BrushTool(mask, history);
  tool.setSize(10);
  tool.setHardness(1);
  return { mask, history, tool };
}

describe('BrushTool', () => {
  it('paints a stroke as one undo entry and undo/redo restore the mask', () => {
    const { mask, history, tool } = setup();
    expect(tool.state).toBe('idle');
    tool.pointerDown({ x: 10, y: 10 });
    expect(tool.state).toBe('painting');
    for (let x = 12; x <= 100; x += 7) tool.pointerMove({ x, y: 40 });
    tool.pointerUp();
    expect(tool.state).toBe('idle');
    expect(history.depth.undo).toBe(1);
    expect(history.undoLabel).toBe('Paint mask');
    const painted = mask.data.slice();
    expect(mask.data[40 * 128 + 60]).toBe(255);
    const b = mask.bounds();
    expect(b.x0).toBeLessThanOrEqual(6);
    expect(b.x1).toBeGreaterThanOrEqual(96 - 2.5 + 5);
    history.undo();
    expect(mask.isEmpty()).toBe(true);
    history.redo();
    expect(mask.data).toEqual(painted);
  });

  it('cancel mid-stroke restores the mask and records nothing', () => {
    const { mask, history, tool } = setup();
    const dirty: number[] = [];
    tool.onDirty = (r) => dirty.push(r.x1 - r.x0);
    tool.pointerDown({ x: 50, y: 50 });
    tool.pointerMove({ x: 80, y: 50 });
    expect(mask.isEmpty()).toBe(false);
    tool.cancel();
    expect(mask.isEmpty()).toBe(true);
    expect(tool.state).toBe('idle');
    expect(history.canUndo).toBe(false);
    expect(dirty.length).toBeGreaterThan(1);
    tool.pointerUp();
    expect(history.canUndo).toBe(false);
  });

  it('erase mode removes paint and ignores other pointers', () => {
    const { mask, tool, history } = setup();
    tool.pointerDown({ x: 30, y: 30 });
    tool.pointerUp();
    tool.setMode('erase');
    tool.pointerDown({ x: 30, y: 30 }, 1);
    tool.pointerMove({ x: 90, y: 90 }, 2);
    tool.pointerUp(2);
    expect(tool.state).toBe('painting');
    tool.pointerUp(1);
    expect(mask.isEmpty()).toBe(true);
    expect(history.undoLabel).toBe('Erase mask');
  });

  it('nudges size and hardness within bounds', () => {
    const { tool } = setup();
    tool.setSize(3);
    tool.nudge(-1, false);
    tool.nudge(-1, false);
    tool.nudge(-1, false);
    expect(tool.settings.size).toBe(1);
    tool.setSize(40);
    tool.nudge(1, false);
    expect(tool.settings.size).toBe(45);
    tool.setHardness(0.95);
    tool.nudge(1, true);
    expect(tool.settings.hardness).toBe(1);
    tool.nudge(-1, true);
    expect(tool.settings.hardness).toBeCloseTo(0.9, 10);
  });

  it('clear and invert are undoable whole-mask steps', () => {
    const { mask, history } = setup(20, 10);
    invertMask(mask, history);
    expect(mask.coverage()).toBe(1);
    clearMask(mask, history);
    expect(mask.isEmpty()).toBe(true);
    history.undo();
    expect(mask.coverage()).toBe(1);
    history.undo();
    expect(mask.isEmpty()).toBe(true);
  });
});

describe('BrushTool opacity and pressure', () => {
  it('opacity caps the coverage and pen pressure scales it along the stroke', () => {
    const { mask, tool } = setup(200, 40);
    tool.setSize(8);
    tool.setOpacity(0.5);
    tool.pointerDown({ x: 10, y: 20 });
    tool.pointerMove({ x: 40, y: 20 });
    tool.pointerUp();
    expect(Math.max(...mask.data)).toBe(128);
    tool.setOpacity(1);
    tool.pointerDown({ x: 60, y: 20 }, 1, 0.2);
    tool.pointerMove({ x: 190, y: 20 }, 1, 1);
    tool.pointerUp(1);
    const at = (x: number) => mask.data[20 * 200 + x]!;
    expect(at(61)).toBeLessThanOrEqual(Math.round(0.25 * 255));
    expect(at(125)).toBeGreaterThan(at(70));
    expect(at(188)).toBe(255);
  });
});
