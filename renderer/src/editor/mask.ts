import type { Rect } from './geometry.ts';
import { emptyRect } from './geometry.ts';
import type { Plane } from './tileUndo.ts';

/**
 * Inpainting mask at image resolution: one byte per pixel, 255 = fill (regenerate),
 * 0 = keep. A plain class, not reactive state: the renderer redraws from `version`.
 */
export class MaskLayer implements Plane {
  readonly width: number;
  readonly height: number;
  readonly channels = 1;
  readonly data: Uint8Array;
  /** Bumped on every change so views can cache the overlay. */
  version = 0;

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height);
  }

  touched(): void {
    this.version++;
  }

  isEmpty(): boolean {
    for (let i = 0; i < this.data.length; i++) if (this.data[i] !== 0) return false;
    return true;
  }

  /** Bounding box of the non-zero pixels (empty rect when the mask is empty). */
  bounds(): Rect {
    let x0 = this.width;
    let y0 = this.height;
    let x1 = 0;
    let y1 = 0;
    for (let y = 0; y < this.height; y++) {
      const row = y * this.width;
      for (let x = 0; x < this.width; x++) {
        if (this.data[row + x] !== 0) {
          if (x < x0) x0 = x;
          if (x >= x1) x1 = x + 1;
          if (y < y0) y0 = y;
          y1 = y + 1;
        }
      }
    }
    return x1 === 0 ? emptyRect : { x0, y0, x1, y1 };
  }

  /** Fraction of the image that is marked for filling (0…1). */
  coverage(): number {
    let n = 0;
    for (let i = 0; i < this.data.length; i++) n += this.data[i] ?? 0;
    return n / (255 * Math.max(1, this.data.length));
  }
}
