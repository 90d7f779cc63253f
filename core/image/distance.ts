/**
 * Exact Euclidean distance transform on a pixel grid (pure TypeScript, O(pixels)). Used by
 * mask tools (grow / shrink in the renderer) and by the engine's inpaint colour matching
 * (rings around the mask).
 */

const INF = 1e20;

/**
 * 1-D squared Euclidean distance transform of a sampled function (Felzenszwalb & Huttenlocher,
 * "Distance Transforms of Sampled Functions", 2012): lower envelope of parabolas, O(n).
 */
function edt1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -INF;
  z[1] = INF;
  for (let q = 1; q < n; q++) {
    let s: number;
    for (;;) {
      const vk = v[k] as number;
      s = ((f[q] as number) + q * q - ((f[vk] as number) + vk * vk)) / (2 * q - 2 * vk);
      if (s <= (z[k] as number) && k > 0) k--;
      else break;
    }
    if (s <= (z[k] as number)) {
      // k === 0 and the new parabola dominates everywhere.
      v[0] = q;
      z[0] = -INF;
      z[1] = INF;
      continue;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = INF;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while ((z[k + 1] as number) < q) k++;
    const vk = v[k] as number;
    d[q] = (q - vk) * (q - vk) + (f[vk] as number);
  }
}

/** Squared distance of every pixel to the nearest pixel where `isSeed` holds (INF when none). */
export function squaredDistanceTo(width: number, height: number, isSeed: (i: number) => boolean): Float64Array {
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const out = new Float64Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = isSeed(i) ? 0 : INF;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = out[y * width + x] as number;
    edt1d(f, height, d, v, z);
    for (let y = 0; y < height; y++) out[y * width + x] = d[y] as number;
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) f[x] = out[row + x] as number;
    edt1d(f, width, d, v, z);
    for (let x = 0; x < width; x++) out[row + x] = d[x] as number;
  }
  return out;
}
