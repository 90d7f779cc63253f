/**
 * Full-reference image metrics for the evaluation table, on planar RGB images in [0, 1]
 * (training/data/image.ts). Conventions follow the super-resolution literature:
 * - PSNR on the 8-bit grid (values rounded and clamped to 0…255, peak 255), over RGB or over the
 *   BT.601 "Y" of MATLAB's rgb2ycbcr (16…235), with `border` pixels cropped on every side (= scale).
 * - SSIM as Wang et al. 2004: 11×11 Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03, L = 255,
 *   "valid" filtering (no padding, as the reference ssim.m), on that Y channel.
 * - Luminance-edge SSIM: SSIM of the Sobel gradient magnitude of luminance; it asks whether edges
 *   stay where they were, for edits that change colour or tone but should keep structure.
 * Summary statistics (mean luminance, chroma, contrast, warmth, vignetting) back the edit checks.
 */
import { luma709 } from '../../core/image/filters.ts';
import type { PlanarImage } from '../../training/data/image.ts';

/** Options of {@link psnr}. */
export interface PsnrOptions {
  /** Pixels removed on each side before measuring (use the SR scale); default 0. */
  border?: number;
  /** 'rgb' (default): all three channels; 'y': BT.601 luma of rgb2ycbcr. */
  channel?: 'rgb' | 'y';
}

/** Options of {@link ssim}. */
export interface SsimOptions {
  /** Pixels removed on each side before measuring; default 0. */
  border?: number;
}

function checkSameSize(a: PlanarImage, b: PlanarImage): void {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new RangeError(`images differ in size: ${a.width}x${a.height}x${a.channels} vs ${b.width}x${b.height}x${b.channels}`);
  }
}

const to8 = (v: number): number => {
  const q = Math.round(v * 255);
  return q < 0 ? 0 : q > 255 ? 255 : q;
};

/** One plane (row-major) with its size. */
export interface Plane {
  width: number;
  height: number;
  data: Float64Array;
}

/** BT.601 Y of MATLAB rgb2ycbcr on 8-bit-rounded RGB: 16 + (65.481 R + 128.553 G + 24.966 B), R,G,B in [0, 1]. */
export function yPlane(img: PlanarImage): Plane {
  if (img.channels !== 3) throw new RangeError('yPlane needs RGB');
  const n = img.width * img.height;
  const d = img.data;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = to8(d[i] as number) / 255;
    const g = to8(d[n + i] as number) / 255;
    const b = to8(d[2 * n + i] as number) / 255;
    out[i] = 16 + 65.481 * r + 128.553 * g + 24.966 * b;
  }
  return { width: img.width, height: img.height, data: out };
}

function cropPlane(p: Plane, border: number): Plane {
  if (border === 0) return p;
  const w = p.width - 2 * border;
  const h = p.height - 2 * border;
  if (w < 1 || h < 1) throw new RangeError(`border ${border} leaves nothing of ${p.width}x${p.height}`);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) out.set(p.data.subarray((y + border) * p.width + border, (y + border) * p.width + border + w), y * w);
  return { width: w, height: h, data: out };
}

/** Mean squared error on the 8-bit grid (0…255 units²), RGB or Y, after cropping `border`. */
export function mse8(a: PlanarImage, b: PlanarImage, options: PsnrOptions = {}): number {
  checkSameSize(a, b);
  const border = options.border ?? 0;
  if (options.channel === 'y') {
    const pa = cropPlane(yPlane(a), border);
    const pb = cropPlane(yPlane(b), border);
    let s = 0;
    for (let i = 0; i < pa.data.length; i++) s += ((pa.data[i] as number) - (pb.data[i] as number)) ** 2;
    return s / pa.data.length;
  }
  const { width: w, height: h, channels: c } = a;
  if (w - 2 * border < 1 || h - 2 * border < 1) throw new RangeError(`border ${border} leaves nothing of ${w}x${h}`);
  let s = 0;
  let count = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let y = border; y < h - border; y++) {
      const row = ch * w * h + y * w;
      for (let x = border; x < w - border; x++) {
        const d = to8(a.data[row + x] as number) - to8(b.data[row + x] as number);
        s += d * d;
        count++;
      }
    }
  }
  return s / count;
}

/** PSNR in dB with peak 255; Infinity for identical images. */
export function psnr(a: PlanarImage, b: PlanarImage, options: PsnrOptions = {}): number {
  const m = mse8(a, b, options);
  return m === 0 ? Infinity : 10 * Math.log10((255 * 255) / m);
}

/** Normalised 1-D Gaussian taps (the 2-D window is separable). */
export function gaussianTaps(size = 11, sigma = 1.5): Float64Array {
  const k = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    s += k[i] as number;
  }
  for (let i = 0; i < size; i++) k[i] = (k[i] as number) / s;
  return k;
}

/** "valid" separable filtering: output (h − K + 1) × (w − K + 1). */
function filterValid(p: Plane, k: Float64Array): Plane {
  const K = k.length;
  const w = p.width - K + 1;
  const h = p.height - K + 1;
  if (w < 1 || h < 1) throw new RangeError(`image ${p.width}x${p.height} is smaller than the ${K}x${K} SSIM window`);
  const tmp = new Float64Array(w * p.height);
  for (let y = 0; y < p.height; y++) {
    const row = y * p.width;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += (k[j] as number) * (p.data[row + x + j] as number);
      tmp[y * w + x] = s;
    }
  }
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += (k[j] as number) * (tmp[(y + j) * w + x] as number);
      out[y * w + x] = s;
    }
  }
  return { width: w, height: h, data: out };
}

/** Mean SSIM of two planes whose dynamic range is `range` (Wang et al. constants). */
export function ssimPlanes(a: Plane, b: Plane, range: number): number {
  if (a.width !== b.width || a.height !== b.height) throw new RangeError('planes differ in size');
  const taps = gaussianTaps(11, 1.5);
  const n = a.data.length;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a.data[i] as number;
    const y = b.data[i] as number;
    aa[i] = x * x;
    bb[i] = y * y;
    ab[i] = x * y;
  }
  const wrap = (d: Float64Array): Plane => ({ width: a.width, height: a.height, data: d });
  const mx = filterValid(a, taps);
  const my = filterValid(b, taps);
  const sxx = filterValid(wrap(aa), taps);
  const syy = filterValid(wrap(bb), taps);
  const sxy = filterValid(wrap(ab), taps);
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  let total = 0;
  const m = mx.data.length;
  for (let i = 0; i < m; i++) {
    const ux = mx.data[i] as number;
    const uy = my.data[i] as number;
    const vx = (sxx.data[i] as number) - ux * ux;
    const vy = (syy.data[i] as number) - uy * uy;
    const cxy = (sxy.data[i] as number) - ux * uy;
    total += ((2 * ux * uy + c1) * (2 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  }
  return total / m;
}

/** SSIM on the BT.601 Y channel (0…255 scale, L = 255); 1 for identical images. */
export function ssim(a: PlanarImage, b: PlanarImage, options: SsimOptions = {}): number {
  checkSameSize(a, b);
  const border = options.border ?? 0;
  return ssimPlanes(cropPlane(yPlane(a), border), cropPlane(yPlane(b), border), 255);
}

/** Rec. 709 luma plane of an RGB image in [0, 1]. */
export function lumaPlane(img: PlanarImage): Plane {
  if (img.channels !== 3) throw new RangeError('luma needs RGB');
  const n = img.width * img.height;
  const d = img.data;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = luma709(d[i] as number, d[n + i] as number, d[2 * n + i] as number);
  return { width: img.width, height: img.height, data: out };
}

/** Sobel gradient magnitude (edge-replicated borders). */
export function sobelMagnitude(p: Plane): Plane {
  const { width: w, height: h, data } = p;
  const at = (x: number, y: number): number => data[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))] as number;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      out[y * w + x] = Math.hypot(gx, gy);
    }
  }
  return { width: w, height: h, data: out };
}

function normaliseMean(p: Plane): Plane {
  let s = 0;
  for (const v of p.data) s += v;
  const mean = s / p.data.length;
  if (mean === 0) return p;
  return { width: p.width, height: p.height, data: p.data.map((v) => v / mean) };
}

/**
 * SSIM of the Sobel magnitudes of luminance. Each magnitude map is first divided by its own mean
 * so that a global brightness or contrast change (which edits such as "make it dark" make on
 * purpose) is not counted as lost structure; the constants then use L = 1, the mean edge
 * strength. Two flat images score 1.
 */
export function edgeSsim(a: PlanarImage, b: PlanarImage, options: SsimOptions = {}): number {
  checkSameSize(a, b);
  const border = options.border ?? 0;
  const ea = normaliseMean(sobelMagnitude(cropPlane(lumaPlane(a), border)));
  const eb = normaliseMean(sobelMagnitude(cropPlane(lumaPlane(b), border)));
  return ssimPlanes(ea, eb, 1);
}

/** Mean Rec. 709 luma, in [0, 1]. */
export function meanLuminance(img: PlanarImage): number {
  const p = lumaPlane(img);
  let s = 0;
  for (const v of p.data) s += v;
  return s / p.data.length;
}

/** Mean chroma max(R,G,B) − min(R,G,B), in [0, 1]; exactly 0 for a grey image. */
export function meanChroma(img: PlanarImage): number {
  if (img.channels !== 3) throw new RangeError('chroma needs RGB');
  const n = img.width * img.height;
  const d = img.data;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const r = d[i] as number;
    const g = d[n + i] as number;
    const b = d[2 * n + i] as number;
    s += Math.max(r, g, b) - Math.min(r, g, b);
  }
  return s / n;
}

/** Standard deviation of luma (global contrast). */
export function lumaStd(img: PlanarImage): number {
  const p = lumaPlane(img);
  let s = 0;
  let s2 = 0;
  for (const v of p.data) {
    s += v;
    s2 += v * v;
  }
  const m = s / p.data.length;
  return Math.sqrt(Math.max(0, s2 / p.data.length - m * m));
}

/** Mean R − B (positive = warm), in [−1, 1]. */
export function meanWarmth(img: PlanarImage): number {
  if (img.channels !== 3) throw new RangeError('warmth needs RGB');
  const n = img.width * img.height;
  let s = 0;
  for (let i = 0; i < n; i++) s += (img.data[i] as number) - (img.data[2 * n + i] as number);
  return s / n;
}

/** Mean luma of the outer ring (r > 0.7 of the half diagonal) over the mean luma of the centre (r < 0.3). */
export function cornerToCentreLuma(img: PlanarImage): number {
  const p = lumaPlane(img);
  const { width: w, height: h } = p;
  const half = Math.hypot(w / 2, h / 2);
  let sc = 0;
  let nc = 0;
  let so = 0;
  let no = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const r = Math.hypot(x + 0.5 - w / 2, y + 0.5 - h / 2) / half;
      const v = p.data[y * w + x] as number;
      if (r < 0.3) {
        sc += v;
        nc++;
      } else if (r > 0.7) {
        so += v;
        no++;
      }
    }
  }
  const centre = nc > 0 ? sc / nc : 0;
  const outer = no > 0 ? so / no : 0;
  return centre > 0 ? outer / centre : 0;
}

/** Pearson correlation of two images' luma (−1 for a negative, 1 for a tone-preserving edit). */
export function lumaCorrelation(a: PlanarImage, b: PlanarImage): number {
  checkSameSize(a, b);
  const pa = lumaPlane(a).data;
  const pb = lumaPlane(b).data;
  const n = pa.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += pa[i] as number;
    mb += pb[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (pa[i] as number) - ma;
    const db = (pb[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/**
 * GMSD, gradient magnitude similarity deviation (Xue, Zhang, Mou & Bovik, IEEE TIP 23(2), 2014),
 * as their reference code: grey level 0.299 R + 0.587 G + 0.114 B on the 8-bit grid, a 2×2 mean
 * and subsampling by 2, Prewitt gradients (/3, zero-padded "same" filtering), the per-pixel
 * similarity (2·m_a·m_b + c)/(m_a² + m_b² + c) with c = 170, and its standard deviation (N − 1).
 * 0 for identical images, larger is worse. Why beside PSNR and SSIM: it does not reward blur —
 * a blurred edge loses gradient magnitude, and the deviation grows where structure is lost
 * unevenly.
 */
export function gmsd(a: PlanarImage, b: PlanarImage): number {
  checkSameSize(a, b);
  if (a.channels !== 3) throw new RangeError('GMSD needs RGB');
  const ga = gmsdGradient(a);
  const gb = gmsdGradient(b);
  const c = 170;
  const n = ga.length;
  if (n < 2) throw new RangeError(`GMSD needs at least 4×2 pixels, got ${a.width}x${a.height}`);
  const q = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const x = ga[i] as number;
    const y = gb[i] as number;
    q[i] = (2 * x * y + c) / (x * x + y * y + c);
    mean += (q[i] as number) / n;
  }
  let v = 0;
  for (let i = 0; i < n; i++) v += ((q[i] as number) - mean) ** 2;
  return Math.sqrt(v / (n - 1));
}

function gmsdGradient(img: PlanarImage): Float64Array {
  const { width: W, height: H } = img;
  const n = W * H;
  const d = img.data;
  const grey = (i: number): number => 0.299 * to8(d[i] as number) + 0.587 * to8(d[n + i] as number) + 0.114 * to8(d[2 * n + i] as number);
  // MATLAB conv2(Y, ones(2)/4, 'same') then Y(1:2:end, 1:2:end): each sample averages a pixel
  // with its right and lower neighbours (zero beyond the edge)
  const w = Math.ceil(W / 2);
  const h = Math.ceil(H / 2);
  const s = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const X = 2 * x;
      const Y = 2 * y;
      let sum = grey(Y * W + X);
      if (X + 1 < W) sum += grey(Y * W + X + 1);
      if (Y + 1 < H) sum += grey((Y + 1) * W + X);
      if (X + 1 < W && Y + 1 < H) sum += grey((Y + 1) * W + X + 1);
      s[y * w + x] = sum / 4;
    }
  }
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= w || y >= h ? 0 : (s[y * w + x] as number));
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // conv2 with [1 0 −1; 1 0 −1; 1 0 −1]/3 flips the kernel: right column minus left column
      const gx = (at(x - 1, y - 1) + at(x - 1, y) + at(x - 1, y + 1) - at(x + 1, y - 1) - at(x + 1, y) - at(x + 1, y + 1)) / 3;
      const gy = (at(x - 1, y - 1) + at(x, y - 1) + at(x + 1, y - 1) - at(x - 1, y + 1) - at(x, y + 1) - at(x + 1, y + 1)) / 3;
      out[y * w + x] = Math.hypot(gx, gy);
    }
  }
  return out;
}

/** Measures of a fill inside a hole against the truth (mask: 1 = hole, row-major, image size). */
export interface HoleMeasures {
  /** PSNR (peak 255, 8-bit grid) over the hole's pixels, RGB. */
  psnr: number;
  /** Euclidean distance (0–255 RGB units) between the fill's and the truth's mean colour in the hole. */
  meanColourDistance: number;
  /**
   * Σ|∇Y|² of the fill over Σ|∇Y|² of the truth, both over the hole (Sobel on Rec. 709 luma,
   * so the seam at the hole's edge counts): ≈ 1 is texture like the photo's, ≪ 1 blur, ≫ 1 noise.
   */
  gradientEnergyRatio: number;
}

/** {@link HoleMeasures} of `fill` against `truth` over `mask` (values ≥ 0.5 = hole). */
export function holeMeasures(fill: PlanarImage, truth: PlanarImage, mask: ArrayLike<number>): HoleMeasures {
  checkSameSize(fill, truth);
  const { width: W, height: H, channels: C } = fill;
  const n = W * H;
  if (mask.length !== n) throw new RangeError(`mask has ${mask.length} values, the image ${n} pixels`);
  let count = 0;
  let se = 0;
  const sumF = new Float64Array(C);
  const sumT = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    if ((mask[i] as number) < 0.5) continue;
    count++;
    for (let c = 0; c < C; c++) {
      const f = to8(fill.data[c * n + i] as number);
      const t = to8(truth.data[c * n + i] as number);
      se += (f - t) ** 2;
      sumF[c] = (sumF[c] as number) + f;
      sumT[c] = (sumT[c] as number) + t;
    }
  }
  if (count === 0) throw new RangeError('the mask is empty');
  const mse = se / (count * C);
  let colour = 0;
  for (let c = 0; c < C; c++) colour += (((sumF[c] as number) - (sumT[c] as number)) / count) ** 2;
  const ef = sobelMagnitude(lumaPlane(fill)).data;
  const et = sobelMagnitude(lumaPlane(truth)).data;
  let energyF = 0;
  let energyT = 0;
  for (let i = 0; i < n; i++) {
    if ((mask[i] as number) < 0.5) continue;
    energyF += (ef[i] as number) ** 2;
    energyT += (et[i] as number) ** 2;
  }
  return {
    psnr: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse),
    meanColourDistance: Math.sqrt(colour),
    gradientEnergyRatio: energyT === 0 ? (energyF === 0 ? 1 : Infinity) : energyF / energyT,
  };
}
