import { describe, it, expect } from 'vitest';
import { History } from '../history.ts';
import { MaskLayer } from '../mask.ts';
import { SelectionTool } from './selectionTool.ts';

const filled = (m: MaskLayer) => m.data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);

describe('SelectionTool', () => {
  it('rectangle: drag fills the box as one undo step; undo/redo restore it', () => {
    const mask = new MaskLayer(50, 40);
    const history = new History();
    const t = new SelectionTool(mask, history, 'rect');
    const dirty: unknown[] = [];
    t.onDirty = (r) => dirty.push(r);
    t.pointerDown({ x: 5, y: 5 });
    expect(t.state).toBe('drawing');
    t.pointerMove({ x: 12, y: 9 });
    t.pointerMove({ x: 15, y: 10 });
    expect(t.outline).toHaveLength(4);
    expect(t.pointerUp()).toBe(true);
    expect(t.state).toBe('idle');
    expect(filled(mask)).toBe(10 * 5);
    expect(history.undoLabel).toBe('Add rectangle');
    history.undo();
    expect(mask.isEmpty()).toBe(true);
    history.redo();
    expect(filled(mask)).toBe(50);
    expect(dirty.length).toBe(3);
  });

  it('lasso: closes the freehand outline; subtract removes; cancel changes nothing', () => {
    const mask = new MaskLayer(64, 64);
    const history = new History();
    const t = new SelectionTool(mask, history, 'lasso');
    t.pointerDown({ x: 10, y: 10 });
    for (const p of [{ x: 50, y: 10 }, { x: 50, y: 50 }, { x: 10, y: 50 }]) t.pointerMove(p);
    t.pointerUp();
    expect(filled(mask)).toBe(40 * 40);
    t.pointerDown({ x: 0, y: 0 }, 0, 'subtract');
    for (const p of [{ x: 30, y: 0 }, { x: 30, y: 64 }, { x: 0, y: 64 }]) t.pointerMove(p);
    t.pointerUp();
    expect(filled(mask)).toBe(20 * 40);
    expect(history.undoLabel).toBe('Subtract lasso');
    t.pointerDown({ x: 0, y: 0 });
    t.pointerMove({ x: 60, y: 0 });
    t.pointerMove({ x: 60, y: 60 });
    t.cancel();
    expect(t.pointerUp()).toBe(false);
    expect(filled(mask)).toBe(800);
    expect(history.depth.undo).toBe(2);
  });

  it('ignores other pointers and degenerate outlines', () => {
    const mask = new MaskLayer(20, 20);
    const history = new History();
    const t = new SelectionTool(mask, history, 'lasso');
    t.pointerDown({ x: 1, y: 1 }, 3);
    t.pointerMove({ x: 10, y: 1 }, 4);
    expect(t.pointerUp(4)).toBe(false);
    expect(t.pointerUp(3)).toBe(false); // two points: nothing to fill
    expect(history.depth.undo).toBe(0);
  });
});
