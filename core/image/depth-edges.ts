/**
 * Does a picture made from a depth map follow the map's structure? The measure the issue names:
 * the Pearson correlation, over pixels, between the gradient magnitude of the picture's luminance
 * and that of the depth map, both after a light Gaussian blur.
 *
 * Why gradient magnitude and not the values: a faithful picture may be darker or brighter at any
 * depth (a bright far sky, a dark near trunk), so value correlation says little; what it cannot do
 * is put its edges elsewhere. Why the blur: an edge rendered one pixel off (or anti-aliased over
 * two) must still count as the same edge, and pixel noise must not count as structure.
 * Why Pearson: it is scale-free, so a low-contrast picture is not penalised for its contrast.
 */
import { gaussianTaps, luma601 } from './filters.ts';

/** The "light blur" of the issue: Gaussian σ in pixels at the map's resolution. */
export const EDGE_BLUR_SIGMA = 1;

/** Separable Gaussian blur of one plane (edges clamped); σ ≤ 0 returns a copy. */
export function gaussianBlur(src: ArrayLike<number>, width: number, height: number, sigma: number): Float32Array {
  const n = width * height;
  if (src.length !== n) throw new RangeError(`blur: ${src.length} values for ${width}×${height}`);
  const out = Float32Array.from(src);
  if (!(sigma > 0) || n === 0) return out;
  const k = gaussianTaps(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float32Array(n);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += (k[i + r] as number) * (out[row + Math.min(width - 1, Math.max(0, x + i))] as number);
      tmp[row + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += (k[i + r] as number) * (tmp[Math.min(height - 1, Math.max(0, y + i)) * width + x] as number);
      out[y * width + x] = s;
    }
  }
  return out;
}

/** Sobel gradient magnitude of one plane; the one-pixel border is 0 (Sobel needs all 8 neighbours). */
export function gradientMagnitude(src: ArrayLike<number>, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const at = (x: number, y: number): number => src[y * width + x] as number;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      out[y * width + x] = Math.hypot(gx, gy);
    }
  }
  return out;
}

/** Pearson correlation of the interiors (one-pixel border left out); 0 when either side is flat. */
export function interiorCorrelation(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number): number {
  let n = 0;
  let sa = 0;
  let sb = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      sa += a[y * width + x] as number;
      sb += b[y * width + x] as number;
      n++;
    }
  }
  if (n < 2) return 0;
  const ma = sa / n;
  const mb = sb / n;
  let cab = 0;
  let caa = 0;
  let cbb = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const da = (a[y * width + x] as number) - ma;
      const db = (b[y * width + x] as number) - mb;
      cab += da * db;
      caa += da * da;
      cbb += db * db;
    }
  }
  // a flat plane has no edges to agree or disagree with
  if (caa <= 1e-20 || cbb <= 1e-20) return 0;
  return cab / Math.sqrt(caa * cbb);
}

/**
 * Edge agreement of a picture with its depth map: correlation of the blurred planes' gradient
 * magnitudes. `luma` and `depth` are one value per pixel, any consistent scale.
 */
export function edgeCorrelation(luma: ArrayLike<number>, depth: ArrayLike<number>, width: number, height: number, sigma = EDGE_BLUR_SIGMA): number {
  if (luma.length !== width * height || depth.length !== width * height) throw new RangeError('edgeCorrelation: planes differ from the size');
  const gl = gradientMagnitude(gaussianBlur(luma, width, height, sigma), width, height);
  const gd = gradientMagnitude(gaussianBlur(depth, width, height, sigma), width, height);
  return interiorCorrelation(gl, gd, width, height);
}

/** BT.601 luminance of planar RGB (3·n values, R plane first). */
export function planarLuma(rgb: ArrayLike<number>, n: number): Float32Array {
  if (rgb.length < 3 * n) throw new RangeError('planarLuma: fewer than 3 planes');
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = luma601(rgb[i] as number, rgb[n + i] as number, rgb[2 * n + i] as number);
  return out;
}
