import type { Point, View } from './view.ts';
import { panBy } from './view.ts';

/** Mouse button numbers as in PointerEvent.button. */
export const MIDDLE_BUTTON = 1;
export const PRIMARY_BUTTON = 0;

/**
 * Pan gesture: Space held + primary drag, or a middle-button drag (Photoshop conventions).
 * A small state machine with no DOM types so it can be driven by tests; the canvas component
 * forwards its events and asks `capturesPointer` whether a tool may see the pointer.
 */
export class PanGesture {
  #spaceHeld = false;
  #dragging: { last: Point; pointerId: number } | null = null;

  get spaceHeld(): boolean {
    return this.#spaceHeld;
  }

  get dragging(): boolean {
    return this.#dragging !== null;
  }

  /** Cursor the canvas should show. */
  get cursor(): 'grabbing' | 'grab' | null {
    if (this.#dragging) return 'grabbing';
    return this.#spaceHeld ? 'grab' : null;
  }

  /** Returns true when the key belongs to the gesture (the caller then prevents default). */
  keyDown(code: string, repeat = false): boolean {
    if (code !== 'Space') return false;
    if (!repeat) this.#spaceHeld = true;
    return true;
  }

  keyUp(code: string): boolean {
    if (code !== 'Space') return false;
    this.#spaceHeld = false;
    return true;
  }

  /** Window lost focus: a keyup will never arrive, so forget held keys and drags. */
  reset(): void {
    this.#spaceHeld = false;
    this.#dragging = null;
  }

  /** True when this pointer-down starts a pan (so tools must not receive it). */
  pointerDown(button: number, p: Point, pointerId = 0): boolean {
    if (button === MIDDLE_BUTTON || (button === PRIMARY_BUTTON && this.#spaceHeld)) {
      this.#dragging = { last: p, pointerId };
      return true;
    }
    return false;
  }

  /** New view when the pointer moved during a pan, otherwise null. */
  pointerMove(view: View, p: Point, pointerId = 0): View | null {
    const d = this.#dragging;
    if (!d || d.pointerId !== pointerId) return null;
    const next = panBy(view, p.x - d.last.x, p.y - d.last.y);
    this.#dragging = { last: p, pointerId };
    return next;
  }

  /** True when the pointer-up ended a pan. */
  pointerUp(pointerId = 0): boolean {
    if (!this.#dragging || this.#dragging.pointerId !== pointerId) return false;
    this.#dragging = null;
    return true;
  }
}
