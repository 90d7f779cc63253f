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
 */

/** What the depth tool needs, in the words the UI and the error message share. */
export const DEPTH_MAP_NEEDS = 'a depth map: a grey image, white = near, black = far';

/** A pixel is grey when no two of its R, G, B differ by more than this (8-bit levels). */
export const DEPTH_GREY_TOLERANCE_8BIT = 12;
/** Share of pixels allowed to be coloured before the image counts as a colour photo. */
export const DEPTH_COLOURED_SHARE = 0.01;

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
  if (img.channels < 3) return null;
  const n = img.width * img.height;
  if (n === 0) return null;
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
  if (coloured <= allowed) return null;
  const pct = Math.max(1, Math.round((100 * coloured) / n));
  return `this image is not a depth map: ${pct} % of its pixels are in colour (R, G and B differ by more than ${DEPTH_GREY_TOLERANCE_8BIT}/255). The depth tool makes a picture from ${DEPTH_MAP_NEEDS}`;
}
