/**
 * The bench's hidden look, kept apart from everything the trainer reads: a teal-and-orange
 * grade (shadows to teal, highlights to orange, a little extra saturation) and a soft
 * vignette. The trainer only ever sees before/after images made with it.
 */
import { luma709 } from '../../core/image/filters.ts';

/** Apply the look to interleaved 8-bit RGB (returns a new buffer). */
export function tealOrangeVignette(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const rmax = Math.hypot(cx, cy);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const r = rgb[i]! / 255;
      const g = rgb[i + 1]! / 255;
      const b = rgb[i + 2]! / 255;
      const l = luma709(r, g, b);
      // split toning: weight toward teal in the shadows, orange in the highlights
      const hi = l;
      const lo = 1 - l;
      const sat = 1.15;
      let R = l + (r - l) * sat + 0.08 * hi - 0.05 * lo;
      let G = l + (g - l) * sat + 0.02 * hi + 0.02 * lo;
      let B = l + (b - l) * sat - 0.08 * hi + 0.06 * lo;
      const d = Math.hypot(x - cx, y - cy) / rmax;
      const v = 1 - 0.3 * d * d;
      R *= v;
      G *= v;
      B *= v;
      out[i] = Math.max(0, Math.min(255, Math.round(R * 255)));
      out[i + 1] = Math.max(0, Math.min(255, Math.round(G * 255)));
      out[i + 2] = Math.max(0, Math.min(255, Math.round(B * 255)));
    }
  return out;
}
