import { describe, expect, it } from 'vitest';
import { ImageDocument, makeRgba } from '../editor/document.ts';
import { History } from '../editor/history.ts';
import { DEFAULT_BRUSH } from '../editor/tools/brushTool.ts';
import { MaskEditor } from './maskEditor.svelte.ts';
import { Notices } from './notices.svelte.ts';

function setup(w = 8, h = 8) {
  const history = new History();
  const doc = new ImageDocument('a.png', null, makeRgba(w, h));
  const notices = new Notices();
  let redraws = 0;
  const mask = new MaskEditor(history, () => doc, notices, () => redraws++);
  mask.bind();
  return { history, doc, notices, mask, redraws: () => redraws };
}

describe('MaskEditor', () => {
  it("starts from the brush's own defaults, and the bound brush paints with the settings", () => {
    const { mask } = setup();
    expect({ size: mask.brushSize, hardness: mask.brushHardness, opacity: mask.brushOpacity, mode: mask.brushMode }).toEqual(DEFAULT_BRUSH);
    mask.setBrushSize(9999);
    expect(mask.brushSize).toBe(mask.brush?.settings.size);
    expect(mask.brushSize).toBeLessThan(9999);
    mask.setTool('eraser');
    expect(mask.brush?.settings.mode).toBe('erase');
    expect(mask.brushMode).toBe('erase');
  });

  it('invert and clear are undoable and keep `empty` right', () => {
    const { mask, history, doc } = setup();
    expect(mask.empty).toBe(true);
    mask.invert();
    expect(mask.empty).toBe(false);
    expect(history.undoLabel).toBe('Invert mask');
    mask.clear();
    expect(mask.empty).toBe(true);
    expect(doc.mask.isEmpty()).toBe(true);
  });

  it('grow/feather sliders show the pending preview and go back to 0 when it is applied or dropped', () => {
    const { mask, doc } = setup();
    doc.mask.data[4 * 8 + 4] = 255;
    mask.changed();
    mask.previewGrow(2);
    expect(mask.growBy).toBe(2);
    expect(mask.preview).not.toBeNull();
    mask.previewFeather(3);
    expect([mask.growBy, mask.featherBy]).toEqual([0, 3]);
    mask.cancelAdjust();
    expect([mask.growBy, mask.featherBy, mask.adjust, mask.preview]).toEqual([0, 0, null, null]);
    mask.previewGrow(1);
    mask.applyAdjust();
    expect([mask.growBy, mask.featherBy, mask.adjust]).toEqual([0, 0, null]);
    expect(doc.mask.data.filter((v) => v > 0).length).toBeGreaterThan(1);
  });

  it('marks the whole overlay dirty after a whole-mask change, then nothing until the next', () => {
    const { mask } = setup();
    mask.takeOverlayDirty();
    expect(mask.takeOverlayDirty()).toEqual({ x0: 0, y0: 0, x1: 0, y1: 0 });
    mask.invert();
    expect(mask.takeOverlayDirty()).toBe('all');
  });

  it('keeps the overlay colour valid and its opacity in range', () => {
    const { mask } = setup();
    mask.setOverlay('red', 2);
    expect([mask.overlayColor, mask.overlayOpacity]).toEqual(['#ff308c', 1]);
    mask.setOverlay('#00ff00', 0);
    expect([mask.overlayColor, mask.overlayOpacity]).toEqual(['#00ff00', 0.05]);
  });
});
