/**
 * Where an inpaint looks: the painted mask's bounding box, and the context region around it that
 * the model is given (the box plus a margin, on the model's pixel grid). The model sees the
 * region, not the whole photo, so a small fill on a large photo costs what the fill needs.
 */

/** A pixel rectangle [y0, y1) × [x0, x1). */
export interface PixelBox {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/** Bounding box of the mask values ≥ 0.5 in an H×W plane, or null when there are none. */
export function maskBox(m: Float32Array, W: number, H: number): PixelBox | null {
  let y0 = H;
  let y1 = -1;
  let x0 = W;
  let x1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if ((m[y * W + x] as number) >= 0.5) {
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  return y1 < 0 ? null : { y0, y1: y1 + 1, x0, x1: x1 + 1 };
}

/**
 * The region handed to the model for a fill of `box`: the box grown by a margin of half its
 * longer side (at least two grid cells), so the model sees enough surroundings to continue them,
 * snapped outward to multiples of `align` and kept inside the padded H×W image.
 */
export function contextRegion(box: PixelBox, align: number, H: number, W: number): PixelBox {
  const margin = Math.max(align * 2, Math.round(0.5 * Math.max(box.y1 - box.y0, box.x1 - box.x0)));
  return {
    y0: Math.max(0, Math.floor((box.y0 - margin) / align) * align),
    x0: Math.max(0, Math.floor((box.x0 - margin) / align) * align),
    y1: Math.min(H, Math.ceil((box.y1 + margin) / align) * align),
    x1: Math.min(W, Math.ceil((box.x1 + margin) / align) * align),
  };
}
