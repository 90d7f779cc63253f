import type { BrushMode, BrushSettings } from '../brush.ts';
import { dabSpacing, MAX_BRUSH, MIN_BRUSH, stampDab, StrokeSpacer } from '../brush.ts';
import type { Rect } from '../geometry.ts';
import { emptyRect, unionRect } from '../geometry.ts';
import type { History } from '../history.ts';
import type { MaskLayer } from '../mask.ts';
import { TileCapture } from '../tileUndo.ts';
import type { Point } from '../view.ts';

export type BrushState = 'idle' | 'painting';

/** A new brush's settings; the editor's brush controls start from these too. */
export const DEFAULT_BRUSH: Readonly<Required<BrushSettings>> = { size: 48, hardness: 0.8, mode: 'paint', opacity: 1 };

/**
 * Mask brush as a two-state machine (tldraw's tool shape): idle → painting on pointer-down,
 * painting → idle on pointer-up (one undo entry per stroke) or on cancel (Esc / lost
 * pointer: the stroke's tiles are restored and nothing enters history).
 */
export class BrushTool {
  #state: BrushState = 'idle';
  #settings: BrushSettings = DEFAULT_BRUSH;
  #pressure = 1;
  #capture: TileCapture | null = null;
  #spacer: StrokeSpacer | null = null;
  #strokeDirty: Rect = emptyRect;
  #pointerId = -1;
  readonly #mask: MaskLayer;
  readonly #history: History;
  /** Called with the rect that needs a redraw after every change. */
  onDirty: (r: Rect) => void = () => {};

  constructor(mask: MaskLayer, history: History) {
    this.#mask = mask;
    this.#history = history;
  }

  get state(): BrushState {
    return this.#state;
  }

  get settings(): BrushSettings {
    return this.#settings;
  }

  setSize(size: number): void {
    this.#settings = { ...this.#settings, size: Math.round(Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, size))) };
  }

  setHardness(h: number): void {
    this.#settings = { ...this.#settings, hardness: Math.round(Math.min(1, Math.max(0, h)) * 100) / 100 };
  }

  setOpacity(o: number): void {
    this.#settings = { ...this.#settings, opacity: Math.round(Math.min(1, Math.max(0.01, o)) * 100) / 100 };
  }

  setMode(mode: BrushMode): void {
    this.#settings = { ...this.#settings, mode };
  }

  /** `[`/`]`: size steps grow with the size (Photoshop-like), Shift+`[`/`]`: hardness ±10 %. */
  nudge(direction: -1 | 1, hardness: boolean): void {
    if (hardness) {
      this.setHardness(this.#settings.hardness + direction * 0.1);
      return;
    }
    const s = this.#settings.size;
    const step = s < 10 ? 1 : s < 50 ? 5 : s < 200 ? 10 : 50;
    this.setSize(s + direction * step);
  }

  /**
   * `pressure` is PointerEvent.pressure for pens (0…1); mice report 0.5 while a button is down
   * and 0 otherwise, so the caller passes 1 unless `pointerType === 'pen'`.
   */
  pointerDown(p: Point, pointerId = 0, pressure = 1): void {
    if (this.#state === 'painting') this.cancel();
    this.#pressure = pressure;
    this.#state = 'painting';
    this.#pointerId = pointerId;
    this.#capture = new TileCapture(this.#mask);
    this.#spacer = new StrokeSpacer(dabSpacing(this.#settings.size));
    this.#strokeDirty = emptyRect;
    this.#dabs(this.#spacer.begin(p));
  }

  pointerMove(p: Point, pointerId = 0, pressure = 1): void {
    if (this.#state !== 'painting' || pointerId !== this.#pointerId || !this.#spacer) return;
    const from = this.#pressure;
    this.#pressure = pressure;
    this.#dabs(this.#spacer.moveTo(p), from);
  }

  pointerUp(pointerId = 0): void {
    if (this.#state !== 'painting' || pointerId !== this.#pointerId) return;
    const label = this.#settings.mode === 'paint' ? 'Paint mask' : 'Erase mask';
    const cmd = this.#capture?.finish(label, (r) => {
      this.#mask.touched();
      this.onDirty(r);
    });
    this.#reset();
    if (cmd) this.#history.push(cmd);
  }

  cancel(): void {
    if (this.#state !== 'painting') return;
    this.#capture?.revert();
    const dirty = this.#strokeDirty;
    this.#reset();
    this.#mask.touched();
    this.onDirty(dirty);
  }

  #reset(): void {
    this.#state = 'idle';
    this.#capture = null;
    this.#spacer = null;
    this.#pointerId = -1;
    this.#strokeDirty = emptyRect;
  }

  /** Stamp dabs; pressure ramps linearly from `fromPressure` to the current one along the segment. */
  #dabs(points: readonly Point[], fromPressure = this.#pressure): void {
    if (points.length === 0 || !this.#capture) return;
    const m = this.#mask;
    const r = this.#settings.size / 2 + 1;
    let dirty: Rect = emptyRect;
    for (let k = 0; k < points.length; k++) {
      const p = points[k] as Point;
      const pr = fromPressure + ((this.#pressure - fromPressure) * (k + 1)) / points.length;
      this.#capture.touch({ x0: Math.floor(p.x - r), y0: Math.floor(p.y - r), x1: Math.ceil(p.x + r) + 1, y1: Math.ceil(p.y + r) + 1 });
      dirty = unionRect(dirty, stampDab(m.data, m.width, m.height, p, this.#settings, pr));
    }
    this.#strokeDirty = unionRect(this.#strokeDirty, dirty);
    m.touched();
    this.onDirty(dirty);
  }
}
