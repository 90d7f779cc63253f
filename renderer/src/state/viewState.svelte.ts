/** How the document is shown: zoom and pan, the viewport, before/after comparison, the loupe. */
import type { Size, View } from '../editor/view.ts';
import { actualSizeView, fitView, identityView, zoomAt } from '../editor/view.ts';
import { PanGesture } from '../editor/panGesture.ts';

export type CompareMode = 'after' | 'before' | 'split';

export class ViewState {
  readonly pan = new PanGesture();
  readonly #image: () => Size | null;
  readonly #redraw: () => void;

  view = $state.raw<View>(identityView);
  viewport = $state.raw<Size>({ width: 800, height: 600 });
  compare = $state<CompareMode>('after');
  /** Where the before/after split sits, 0..1 of the image width. */
  split = $state(0.5);
  /** 100 % magnifier that follows the cursor. */
  loupe = $state(false);

  constructor(image: () => Size | null, redraw: () => void) {
    this.#image = image;
    this.#redraw = redraw;
  }

  setViewport(size: Size): void {
    if (this.viewport.width === size.width && this.viewport.height === size.height) return;
    this.viewport = size;
    this.#redraw();
  }

  fit(): void {
    const img = this.#image();
    if (img) this.view = fitView(img, this.viewport);
    this.#redraw();
  }

  actualSize(): void {
    const img = this.#image();
    if (img) this.view = actualSizeView(img, this.viewport);
    this.#redraw();
  }

  zoomBy(factor: number): void {
    this.view = zoomAt(this.view, this.view.zoom * factor, { x: this.viewport.width / 2, y: this.viewport.height / 2 });
    this.#redraw();
  }

  setView(v: View): void {
    this.view = v;
    this.#redraw();
  }
}
