/**
 * Image statistics that separate photographs from flat artwork, logos and diagrams, measured on a
 * thumbnail (long side ≤ 256, 8-bit RGB):
 * - `colours`: distinct colours after 5-bit-per-channel quantisation (of 32768). Renders, gradients
 *   and logos use few; photos with sensor noise and texture use thousands.
 * - `flatFraction`: share of pixels whose right and lower neighbours are identical in all channels
 *   (exact zero gradient). Vector artwork has large exactly flat areas; photos almost never do.
 * - `meanSaturation`: mean HSV saturation; ≈ 0 for greyscale images.
 * - `edgeDensity`: share of pixels with a luma gradient above 8/255 (texture and detail).
 */
import { luma601 } from '../../core/image/filters.ts';

/** Thumbnail statistics of one image. */
export interface PhotoStats {
  width: number;
  height: number;
  colours: number;
  flatFraction: number;
  meanSaturation: number;
  edgeDensity: number;
}

/** Compute {@link PhotoStats} from interleaved 8-bit RGB; width/height are the original size. */
export function photoStats(rgb: Uint8Array, thumbWidth: number, thumbHeight: number, width: number, height: number): PhotoStats {
  const seen = new Uint8Array(32768);
  let colours = 0;
  let flat = 0;
  let edges = 0;
  let satSum = 0;
  const n = thumbWidth * thumbHeight;
  const lumaAt = (i: number): number => luma601(rgb[3 * i] as number, rgb[3 * i + 1] as number, rgb[3 * i + 2] as number);
  for (let y = 0; y < thumbHeight; y++) {
    for (let x = 0; x < thumbWidth; x++) {
      const i = y * thumbWidth + x;
      const r = rgb[3 * i] as number;
      const g = rgb[3 * i + 1] as number;
      const b = rgb[3 * i + 2] as number;
      const key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
      if (!seen[key]) {
        seen[key] = 1;
        colours++;
      }
      const mx = Math.max(r, g, b);
      const mn = Math.min(r, g, b);
      satSum += mx === 0 ? 0 : (mx - mn) / mx;
      if (x + 1 < thumbWidth && y + 1 < thumbHeight) {
        const j = i + 1;
        const k = i + thumbWidth;
        const same = (a: number, c: number): boolean => rgb[3 * a] === rgb[3 * c] && rgb[3 * a + 1] === rgb[3 * c + 1] && rgb[3 * a + 2] === rgb[3 * c + 2];
        if (same(i, j) && same(i, k)) flat++;
        const gx = lumaAt(j) - lumaAt(i);
        const gy = lumaAt(k) - lumaAt(i);
        if (Math.hypot(gx, gy) > 8) edges++;
      }
    }
  }
  const inner = Math.max(1, (thumbWidth - 1) * (thumbHeight - 1));
  return { width, height, colours, flatFraction: flat / inner, meanSaturation: satSum / n, edgeDensity: edges / inner };
}

/** Thresholds of the automatic photo filter (documented defaults; see {@link isLikelyPhoto}). */
export const PHOTO_FILTER = {
  minShortSide: 256,
  minColours: 400,
  maxFlatFraction: 0.12,
  minMeanSaturation: 0.06,
  minEdgeDensity: 0.02,
} as const;

/** The automatic filter: colour photographs only, large enough to crop from. */
export function isLikelyPhoto(s: PhotoStats): { photo: boolean; reason: string } {
  const f = PHOTO_FILTER;
  if (Math.min(s.width, s.height) < f.minShortSide) return { photo: false, reason: `short side ${Math.min(s.width, s.height)} < ${f.minShortSide}` };
  if (s.meanSaturation < f.minMeanSaturation) return { photo: false, reason: `greyscale (mean saturation ${s.meanSaturation.toFixed(3)})` };
  if (s.colours < f.minColours) return { photo: false, reason: `few colours (${s.colours})` };
  if (s.flatFraction > f.maxFlatFraction) return { photo: false, reason: `flat areas (${(100 * s.flatFraction).toFixed(1)} %)` };
  if (s.edgeDensity < f.minEdgeDensity) return { photo: false, reason: `no texture (edge density ${s.edgeDensity.toFixed(3)})` };
  return { photo: true, reason: 'passes the photo filter' };
}
