import type { History } from './history.ts';
import type { MaskLayer } from './mask.ts';
import { TileCapture } from './tileUndo.ts';

/** Run a whole-mask edit as one undoable entry (only changed tiles are stored). */
function wholeMaskEdit(mask: MaskLayer, history: History, label: string, edit: (d: Uint8Array) => void, onChange: () => void): void {
  const cap = new TileCapture(mask);
  cap.touch({ x0: 0, y0: 0, x1: mask.width, y1: mask.height });
  edit(mask.data);
  mask.touched();
  onChange();
  const cmd = cap.finish(label, () => {
    mask.touched();
    onChange();
  });
  if (cmd) history.push(cmd);
}

export function clearMask(mask: MaskLayer, history: History, onChange: () => void = () => {}): void {
  wholeMaskEdit(mask, history, 'Clear mask', (d) => d.fill(0), onChange);
}

export function invertMask(mask: MaskLayer, history: History, onChange: () => void = () => {}): void {
  wholeMaskEdit(mask, history, 'Invert mask', (d) => {
    for (let i = 0; i < d.length; i++) d[i] = 255 - (d[i] ?? 0);
  }, onChange);
}
