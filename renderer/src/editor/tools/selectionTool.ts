import type { Rect } from '../geometry.ts';
import { isEmptyRect } from '../geometry.ts';
import type { History } from '../history.ts';
import type { MaskLayer } from '../mask.ts';
import type { FillMode } from '../maskOps.ts';
import { fillPolygon, polygonBounds, rectPolygon } from '../maskOps.ts';
import { TileCapture } from '../tileUndo.ts';
import type { Point } from '../view.ts';

export type SelectionShape = 'lasso' | 'rect';
export type SelectionState = 'idle' | 'drawing';

/** Lasso points closer than this (image px) to the previous one are dropped. */
const MIN_STEP = 1;

/**
 * Lasso and rectangle mask tools as one two-state machine: idle → drawing on pointer-down,
 * drawing → idle on pointer-up, which fills the closed outline into the mask as one undo
 * entry (add, or subtract with Alt / the subtract mode). Cancel drops the outline; the mask
 * is only written on commit, so there is nothing to revert.
 */
export class SelectionTool {
  #state: SelectionState = 'idle';
  #points: Point[] = [];
  #pointerId = -1;
  #mode: FillMode = 'add';
  shape: SelectionShape;
  readonly #mask: MaskLayer;
  readonly #history: History;
  /** Called after the mask changed (commit, undo, redo) with the rect to redraw. */
  onDirty: (r: Rect) => void = () => {};

  constructor(mask: MaskLayer, history: History, shape: SelectionShape = 'lasso') {
    this.#mask = mask;
    this.#history = history;
    this.shape = shape;
  }

  get state(): SelectionState {
    return this.#state;
  }

  /** The outline being drawn, in image coordinates (for the canvas to stroke). */
  get outline(): readonly Point[] {
    if (this.#state !== 'drawing') return [];
    if (this.shape === 'rect') {
      const a = this.#points[0];
      const b = this.#points.at(-1);
      return a && b ? rectPolygon(a, b) : [];
    }
    return this.#points;
  }

  pointerDown(p: Point, pointerId = 0, mode: FillMode = 'add'): void {
    this.#state = 'drawing';
    this.#pointerId = pointerId;
    this.#mode = mode;
    this.#points = [p];
  }

  pointerMove(p: Point, pointerId = 0): void {
    if (this.#state !== 'drawing' || pointerId !== this.#pointerId) return;
    if (this.shape === 'rect') {
      this.#points = [this.#points[0] as Point, p];
      return;
    }
    const last = this.#points.at(-1) as Point;
    if (Math.hypot(p.x - last.x, p.y - last.y) >= MIN_STEP) this.#points.push(p);
  }

  /** Close the outline and fill it; returns true when the mask changed. */
  pointerUp(pointerId = 0): boolean {
    if (this.#state !== 'drawing' || pointerId !== this.#pointerId) return false;
    const poly = this.outline.slice();
    this.cancel();
    const m = this.#mask;
    const box = polygonBounds(poly, m.width, m.height);
    if (poly.length < 3 || isEmptyRect(box)) return false;
    const cap = new TileCapture(m);
    cap.touch(box);
    fillPolygon(m.data, m.width, m.height, poly, this.#mode);
    const label = `${this.#mode === 'add' ? 'Add' : 'Subtract'} ${this.shape === 'lasso' ? 'lasso' : 'rectangle'}`;
    const cmd = cap.finish(label, (r) => {
      m.touched();
      this.onDirty(r);
    });
    if (!cmd) return false;
    m.touched();
    this.onDirty(box);
    this.#history.push(cmd);
    return true;
  }

  cancel(): void {
    this.#state = 'idle';
    this.#points = [];
    this.#pointerId = -1;
  }
}
