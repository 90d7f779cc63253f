/**
 * The mask and its tools: brush / eraser / lasso / rectangle bound to the open document, the
 * overlay's look and its dirty area, grow/shrink/feather previews, and mask files. Brush
 * settings start from the brush's own defaults.
 */
import type { ImageDocument } from '../editor/document.ts';
import type { History } from '../editor/history.ts';
import type { MaskAdjust } from '../editor/maskActions.ts';
import { adjustedMask, adjustLabel, clearMask, invertMask, replaceMask } from '../editor/maskActions.ts';
import type { Rect } from '../editor/geometry.ts';
import { unionRect } from '../editor/geometry.ts';
import { BrushTool, DEFAULT_BRUSH } from '../editor/tools/brushTool.ts';
import { SelectionTool } from '../editor/tools/selectionTool.ts';
import type { Notices } from './notices.svelte.ts';
import { decodePicture, maskFromPicture, maskPng } from './maskFiles.ts';

/** The active mask tool: brush and eraser paint, lasso and rectangle fill outlines. */
export type MaskTool = 'brush' | 'eraser' | 'lasso' | 'rect';

export class MaskEditor {
  readonly #history: History;
  readonly #doc: () => ImageDocument | null;
  readonly #notices: Notices;
  readonly #redraw: () => void;
  #brush: BrushTool | null = null;
  #selection: SelectionTool | null = null;
  /** Mask area whose overlay pixels are stale ('all' after whole-mask edits and swaps). */
  #overlayDirty: Rect | 'all' = 'all';

  tool = $state<MaskTool>('brush');
  brushMode = $state<'paint' | 'erase'>(DEFAULT_BRUSH.mode);
  brushSize = $state(DEFAULT_BRUSH.size);
  brushHardness = $state(DEFAULT_BRUSH.hardness);
  brushOpacity = $state(DEFAULT_BRUSH.opacity);
  overlayColor = $state('#ff308c');
  overlayOpacity = $state(0.5);
  /** Grow/shrink/feather being previewed (the overlay shows `preview` until applied). */
  adjust = $state.raw<MaskAdjust | null>(null);
  preview = $state.raw<Uint8Array | null>(null);
  /** The sliders' values; back to 0 whenever no adjustment is pending. */
  growBy = $state(0);
  featherBy = $state(0);
  version = $state(0);
  /** Updated at stroke ends and mask commands, not per dab (a full scan is O(pixels)). */
  empty = $state(true);
  /** The overlay is drawn; hidden after a result so the user sees it (H toggles). */
  shown = $state(true);

  constructor(history: History, doc: () => ImageDocument | null, notices: Notices, redraw: () => void) {
    this.#history = history;
    this.#doc = doc;
    this.#notices = notices;
    this.#redraw = redraw;
  }

  get brush(): BrushTool | null {
    return this.#brush;
  }

  get selection(): SelectionTool | null {
    return this.#selection;
  }

  /** The overlay area to repaint since the last call (the canvas redraws only that). */
  takeOverlayDirty(): Rect | 'all' {
    const d = this.#overlayDirty;
    this.#overlayDirty = { x0: 0, y0: 0, x1: 0, y1: 0 };
    return d;
  }

  #markOverlay(r: Rect | 'all'): void {
    this.#overlayDirty = r === 'all' || this.#overlayDirty === 'all' ? 'all' : unionRect(this.#overlayDirty, r);
  }

  /** New tools on the document's (possibly new) mask layer, with the current settings. */
  bind(): void {
    const doc = this.#doc();
    this.empty = doc?.mask.isEmpty() ?? true;
    if (!doc) return;
    const b = new BrushTool(doc.mask, this.#history);
    b.setSize(this.brushSize);
    b.setHardness(this.brushHardness);
    b.setOpacity(this.brushOpacity);
    b.setMode(this.brushMode);
    const onDirty = (r: Rect): void => {
      this.shown = true;
      this.#markOverlay(r);
      this.version++;
      this.#redraw();
    };
    b.onDirty = onDirty;
    this.#brush = b;
    const sel = new SelectionTool(doc.mask, this.#history, this.tool === 'rect' ? 'rect' : 'lasso');
    sel.onDirty = (r) => {
      onDirty(r);
      this.empty = doc.mask.isEmpty();
    };
    this.#selection = sel;
    this.#markOverlay('all');
  }

  /** The mask changed as a whole (a command, undo, redo, another document). */
  changed(): void {
    this.empty = this.#doc()?.mask.isEmpty() ?? true;
    this.#markOverlay('all');
    this.version++;
    this.#redraw();
  }

  setTool(t: MaskTool): void {
    this.shown = true;
    this.#brush?.cancel();
    this.#selection?.cancel();
    this.tool = t;
    if (t === 'brush' || t === 'eraser') {
      this.brushMode = t === 'brush' ? 'paint' : 'erase';
      this.#brush?.setMode(this.brushMode);
    } else if (this.#selection) {
      this.#selection.shape = t;
    }
    this.#redraw();
  }

  setBrushMode(m: 'paint' | 'erase'): void {
    this.setTool(m === 'paint' ? 'brush' : 'eraser');
  }

  setBrushSize(s: number): void {
    this.#brush?.setSize(s);
    this.brushSize = this.#brush?.settings.size ?? s;
    this.#redraw();
  }

  setBrushHardness(h: number): void {
    this.#brush?.setHardness(h);
    this.brushHardness = this.#brush?.settings.hardness ?? h;
  }

  setBrushOpacity(o: number): void {
    this.#brush?.setOpacity(o);
    this.brushOpacity = this.#brush?.settings.opacity ?? o;
  }

  nudgeBrush(direction: -1 | 1, hardness: boolean): void {
    const b = this.#brush;
    if (!b) return;
    b.nudge(direction, hardness);
    this.brushSize = b.settings.size;
    this.brushHardness = b.settings.hardness;
    this.#redraw();
  }

  setOverlay(color: string, opacity: number): void {
    this.overlayColor = /^#[0-9a-f]{6}$/i.test(color) ? color : this.overlayColor;
    this.overlayOpacity = Math.min(1, Math.max(0.05, opacity));
    this.#markOverlay('all');
    this.version++;
    this.#redraw();
  }

  /** Show or hide the overlay (the 'toggleMask' shortcut). */
  toggleShown(): void {
    this.shown = !this.shown;
    this.#redraw();
  }

  clear(): void {
    const doc = this.#doc();
    if (doc) clearMask(doc.mask, this.#history, () => this.changed());
  }

  invert(): void {
    this.shown = true;
    const doc = this.#doc();
    if (doc) invertMask(doc.mask, this.#history, () => this.changed());
  }

  /** Preview growing (negative: shrinking) by `px` on a copy; the overlay shows it until apply or cancel. */
  previewGrow(px: number): void {
    this.growBy = px;
    this.featherBy = 0;
    this.#preview({ kind: 'grow', radius: px });
  }

  previewFeather(px: number): void {
    this.featherBy = px;
    this.growBy = 0;
    this.#preview({ kind: 'feather', radius: px });
  }

  #preview(a: MaskAdjust): void {
    const doc = this.#doc();
    if (!doc) return;
    this.shown = true;
    this.adjust = a;
    this.preview = a.radius === 0 ? null : adjustedMask(doc.mask, a);
    this.#markOverlay('all');
    this.version++;
    this.#redraw();
  }

  applyAdjust(): void {
    const doc = this.#doc();
    const a = this.adjust;
    if (doc && a && a.radius !== 0) replaceMask(doc.mask, this.preview ?? adjustedMask(doc.mask, a), adjustLabel(a), this.#history, () => this.changed());
    this.cancelAdjust();
  }

  cancelAdjust(): void {
    this.growBy = 0;
    this.featherBy = 0;
    if (!this.adjust && !this.preview) return;
    this.adjust = null;
    this.preview = null;
    this.changed();
  }

  /** The mask as a grey PNG (white = fill). */
  async png(): Promise<Uint8Array | null> {
    const doc = this.#doc();
    return doc ? maskPng(doc.mask.data, doc) : null;
  }

  /** Load a mask picture as one undo step, scaled if it has the image's shape. */
  async load(blob: Blob): Promise<void> {
    const doc = this.#doc();
    if (!doc) return;
    const pic = await decodePicture(blob);
    if (!pic) {
      this.#notices.error('Could not read that file as a mask picture.');
      return;
    }
    const r = maskFromPicture(pic, doc);
    if (!r.ok) {
      this.#notices.error(r.message);
      return;
    }
    this.shown = true;
    replaceMask(doc.mask, r.mask, 'Load mask', this.#history, () => this.changed());
    this.#notices.info(r.note ? `Mask loaded: ${r.note}.` : 'Mask loaded.');
  }
}
