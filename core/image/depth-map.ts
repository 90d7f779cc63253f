/**
 * Is this picture a depth map? ONE rule, used by the engine before a depth job is queued (so
 * the app and `codi run depth` refuse the same input with the same words) and by the editor to
 * say so before the user presses Run.
 *
 * Why a rule at all: the depth tool turns a depth map into a picture. Fed an ordinary colour
 * photo it still "works", and returns coloured noise, which reads as a broken tool.
 * A depth map is grey (CONVENTIONS.md, "Depth convention"): one channel, or R ≈ G ≈ B. A grey
 * map saved as an RGB JPEG keeps a few levels of chroma noise, hence the tolerance, and a few
 * coloured pixels (an annotation, a logo) are let through.
 *
 * Grey is not enough: a black-and-white photograph is grey too, and gives the same noise. What a
 * depth map has and a photograph has not is smoothness between its edges: depth changes along
 * surfaces in slopes and jumps at silhouettes, so a pixel that stands above (or below) all eight
 * neighbours is rare, while photographic texture, grain and foliage make such peaks everywhere.
 * The rule counts them on the picture scaled (area) to at most 256 px, so the share does not
 * depend on the resolution. The limit was set from training data only (build/eval/depth-classifier.ts):
 * 100 training depth renders have at most 0.05 % peaks (margin 2/255), and 0.5 %, ten times that,
 * leaves room for the noise and soft edges of real maps that the clean renders lack; it refuses
 * 216 of the training library's 240 photographs in grey. Held-out maps and photos only check it
 * (numbers in bench/results/eval-2026-12-06-depth.md). A soft, textureless grey photograph (fog,
 * a blurred backdrop) has as few peaks as a depth map and is let through; a soft-edged matte
 * (an alpha matte's fringes are peaks) can be refused.
 */

/** What the depth tool needs, in the words the UI and the error message share. */
export const DEPTH_MAP_NEEDS = 'a depth map: a grey image, white = near, black = far';

/** A pixel is grey when no two of its R, G, B differ by more than this (8-bit levels). */
export const DEPTH_GREY_TOLERANCE_8BIT = 12;
/** Share of pixels allowed to be coloured before the image counts as a colour photo. */
export const DEPTH_COLOURED_SHARE = 0.01;
/** Long side the peak count is measured at (area downscale; smaller pictures as they are). */
export const DEPTH_PEAK_SIDE = 256;
/** A peak stands this far (8-bit levels) above or below all eight neighbours. */
export const DEPTH_PEAK_MARGIN_8BIT = 2;
/** Share of peaks above which a grey picture counts as a photograph. */
export const DEPTH_PEAK_SHARE = 0.005;

export interface InterleavedImage {
  readonly width: number;
  readonly height: number;
  /** 1 = grey, 2 = grey + alpha, 3 = RGB, 4 = RGBA. */
  readonly channels: number;
  /** 255 for 8-bit samples, 65535 for 16-bit. */
  readonly maxValue: number;
  readonly pixels: ArrayLike<number>;
}

/** Null when `img` may be used as a depth map, else the reason it is refused. */
export function depthMapProblem(img: InterleavedImage): string | null {
  const n = img.width * img.height;
  if (n === 0) return null;
  if (img.channels < 3) return texturedProblem(img);
  const tol = (DEPTH_GREY_TOLERANCE_8BIT / 255) * img.maxValue;
  const allowed = Math.floor(n * DEPTH_COLOURED_SHARE);
  const px = img.pixels;
  const c = img.channels;
  let coloured = 0;
  for (let i = 0, s = 0; i < n; i++, s += c) {
    const r = px[s] as number;
    const g = px[s + 1] as number;
    const b = px[s + 2] as number;
    if (Math.max(r, g, b) - Math.min(r, g, b) > tol) coloured++;
  }
  if (coloured > allowed) {
    const pct = Math.max(1, Math.round((100 * coloured) / n));
    return `this image is not a depth map: ${pct} % of its pixels are in colour (R, G and B differ by more than ${DEPTH_GREY_TOLERANCE_8BIT}/255). The depth tool makes a picture from ${DEPTH_MAP_NEEDS}`;
  }
  return texturedProblem(img);
}

/** The grey plane in 8-bit levels, area-scaled so the long side is at most {@link DEPTH_PEAK_SIDE}. */
export function depthGreyPlane(img: InterleavedImage): { width: number; height: number; data: Float32Array } {
  const { width: W, height: H, channels: c, pixels: px } = img;
  const k = Math.min(1, DEPTH_PEAK_SIDE / Math.max(W, H));
  const w = Math.max(1, Math.round(W * k));
  const h = Math.max(1, Math.round(H * k));
  const toLevels = 255 / img.maxValue;
  const out = new Float32Array(w * h);
  const cnt = new Float32Array(w * h);
  // box (area) downscale by binning: every source pixel adds to the output pixel it falls in
  for (let y = 0; y < H; y++) {
    const oy = Math.min(h - 1, Math.floor((y * h) / H));
    for (let x = 0; x < W; x++) {
      const s = (y * W + x) * c;
      const v = c >= 3 ? ((px[s] as number) + (px[s + 1] as number) + (px[s + 2] as number)) / 3 : (px[s] as number);
      const o = oy * w + Math.min(w - 1, Math.floor((x * w) / W));
      out[o] = (out[o] as number) + v * toLevels;
      cnt[o] = (cnt[o] as number) + 1;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / Math.max(1, cnt[i] as number);
  return { width: w, height: h, data: out };
}

/** Share of interior pixels that are peaks: above or below all eight neighbours by the margin. */
export function peakShare(plane: { width: number; height: number; data: ArrayLike<number> }, margin = DEPTH_PEAK_MARGIN_8BIT): number {
  const { width: w, height: h, data: a } = plane;
  if (w < 3 || h < 3) return 0;
  let peaks = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const v = a[y * w + x] as number;
      let lo = Infinity;
      let hi = -Infinity;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if (dx === 0 && dy === 0) continue;
          const u = a[(y + dy) * w + x + dx] as number;
          if (u < lo) lo = u;
          if (u > hi) hi = u;
        }
      }
      if (v >= hi + margin || v <= lo - margin) peaks++;
    }
  }
  return peaks / ((w - 2) * (h - 2));
}

function texturedProblem(img: InterleavedImage): string | null {
  const share = peakShare(depthGreyPlane(img));
  if (share <= DEPTH_PEAK_SHARE) return null;
  const pct = (100 * share).toFixed(share < 0.1 ? 1 : 0);
  return `this grey image looks like a photograph, not a depth map: ${pct} % of its pixels are fine texture (brighter or darker than all their neighbours), where a depth map is smooth between its edges. The depth tool makes a picture from ${DEPTH_MAP_NEEDS}`;
}
