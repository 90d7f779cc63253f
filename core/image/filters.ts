/**
 * Small per-pixel and per-plane pieces of image maths that several tools share: the box filter
 * (local means for the gain/offset field, mask feathering, the inpaint seam ramp), BT.601 luma
 * (grey for depth maps and degradations), Gaussian taps, BT.709 luminance (brightness in metrics and edits), the clamp to the model range [−1, 1] and the one to
 * [0, 1] for alpha planes.
 *
 * The planes are typed arrays and every index below stays inside the loop's own bounds (edges are
 * clamped explicitly), so element reads are cast `as number` rather than checked one by one.
 */

/**
 * Box mean of radius `r` over one H·W plane, horizontal then vertical, with clamped edges, via
 * running sums (O(pixels) for any radius). Writes into `dst`, which may be `src` itself; `tmp`
 * (H·W) is scratch, so callers that blur many times can reuse both buffers.
 */
export function boxBlurInto(src: Float32Array, dst: Float32Array, tmp: Float32Array, H: number, W: number, r: number): Float32Array {
  if (r <= 0) {
    if (dst !== src) dst.set(src);
    return dst;
  }
  const norm = 1 / (2 * r + 1);
  for (let y = 0; y < H; y++) {
    const row = y * W;
    let s = 0;
    for (let k = -r; k <= r; k++) s += src[row + Math.min(W - 1, Math.max(0, k))] as number;
    for (let x = 0; x < W; x++) {
      tmp[row + x] = s * norm;
      s += (src[row + Math.min(W - 1, x + r + 1)] as number) - (src[row + Math.max(0, x - r)] as number);
    }
  }
  for (let x = 0; x < W; x++) {
    let s = 0;
    for (let k = -r; k <= r; k++) s += tmp[Math.min(H - 1, Math.max(0, k)) * W + x] as number;
    for (let y = 0; y < H; y++) {
      dst[y * W + x] = s * norm;
      s += (tmp[Math.min(H - 1, y + r + 1) * W + x] as number) - (tmp[Math.max(0, y - r) * W + x] as number);
    }
  }
  return dst;
}

/**
 * Normalised Gaussian taps for σ, radius ⌈3σ⌉ (at least 1): the one kernel of the depth-edge blur
 * (depth-edges.ts) and the unsharp mask (unsharp.ts).
 */
export function gaussianTaps(sigma: number): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new RangeError(`Gaussian σ must be positive, got ${sigma}`);
  const r = Math.max(1, Math.ceil(3 * sigma));
  const taps = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += taps[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < taps.length; i++) (taps[i] as number) /= sum;
  return taps;
}

/** {@link boxBlurInto} into a new plane; `src` is left as it is. */
export function boxMean(src: Float32Array, H: number, W: number, r: number): Float32Array {
  return boxBlurInto(src, new Float32Array(H * W), new Float32Array(H * W), H, W, r);
}

/**
 * ITU-R BT.601 luma of one RGB value (any scale: the weights sum to 1): grey for depth maps and
 * degradations (CONVENTIONS.md).
 */
export function luma601(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/**
 * ITU-R BT.709 (sRGB) relative luminance weights of one RGB value, any scale: what the eval
 * metrics, the synthetic edits and mask-from-image measure brightness with.
 */
export function luma709(r: number, g: number, b: number): number {
  return LUMA709_R * r + LUMA709_G * g + LUMA709_B * b;
}

/**
 * Every pixel of an RGB image [B, 3, H, W] made grey at its own BT.709 luma, in place: for an edit
 * whose every training target is grey ("black and white"), so the result has no colour left while
 * its brightness stays the model's. Any affine range (the weights sum to 1). Returns `x`.
 */
export function greyAtLumaInPlace(x: { data: Float32Array; shape: readonly number[] }): typeof x {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  if (x.shape.length !== 4 || C !== 3) throw new RangeError(`greyAtLumaInPlace needs [B, 3, H, W], got [${x.shape.join(', ')}]`);
  const plane = H * W;
  const d = x.data;
  for (let b = 0; b < B; b++) {
    const r0 = b * 3 * plane;
    for (let i = r0; i < r0 + plane; i++) {
      const y = luma709(d[i] as number, d[i + plane] as number, d[i + 2 * plane] as number);
      d[i] = y;
      d[i + plane] = y;
      d[i + 2 * plane] = y;
    }
  }
  return x;
}

/** The BT.709 weights themselves, for code that must also invert the luma (the opponent carry). */
export const LUMA709_R = 0.2126;
export const LUMA709_G = 0.7152;
export const LUMA709_B = 0.0722;

/** `v` limited to the model range [−1, 1]; NaN stays NaN. */
export function clampUnit(v: number): number {
  return Math.min(1, Math.max(-1, v));
}

/** Every value of `d` limited to [−1, 1], in place; returns `d`. */
export function clampUnitInPlace(d: Float32Array): Float32Array {
  for (let i = 0; i < d.length; i++) d[i] = clampUnit(d[i] as number);
  return d;
}

/** A copy of `d` limited to [0, 1]: an alpha plane after a bicubic resize overshoots both ends. NaN stays NaN. */
export function clampZeroOne(d: Float32Array): Float32Array {
  return d.map((v) => (v < 0 ? 0 : v > 1 ? 1 : v));
}
