import type { History } from './history.ts';
import type { MaskLayer } from './mask.ts';
import { feather, growShrink } from './maskOps.ts';
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

/** Replace the mask's pixels (a loaded mask PNG, or an accepted preview) as one undo step. */
export function replaceMask(mask: MaskLayer, next: Uint8Array, label: string, history: History, onChange: () => void = () => {}): void {
  if (next.length !== mask.data.length) throw new Error(`mask has ${mask.data.length} pixels, the replacement ${next.length}`);
  wholeMaskEdit(mask, history, label, (d) => d.set(next), onChange);
}

/** Mask adjustments that the panel previews live before they are applied. */
export type MaskAdjust = { readonly kind: 'grow'; readonly radius: number } | { readonly kind: 'feather'; readonly radius: number };

/** The adjusted mask (a new buffer; the layer is untouched). `grow` with a negative radius shrinks. */
export function adjustedMask(mask: MaskLayer, a: MaskAdjust): Uint8Array {
  return a.kind === 'grow' ? growShrink(mask.data, mask.width, mask.height, a.radius) : feather(mask.data, mask.width, mask.height, a.radius);
}

export function adjustLabel(a: MaskAdjust): string {
  if (a.kind === 'feather') return `Feather mask ${a.radius} px`;
  return a.radius >= 0 ? `Grow mask ${a.radius} px` : `Shrink mask ${-a.radius} px`;
}
