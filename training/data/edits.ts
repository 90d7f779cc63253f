/**
 * Procedural instruction edits with exact ground truth: each instruction of
 * {@link EDIT_INSTRUCTIONS} maps to a deterministic pixel function on an RGB image in [0, 1]
 * (documented per edit in the table's `description`). Outputs are clamped to [0, 1].
 */
import { luma709 } from '../../core/image/filters.ts';
import { createImage } from './image.ts';
import type { PlanarImage } from './image.ts';
import { EDIT_INSTRUCTIONS } from './edit-instructions.ts';
import type { EditId, EditInstruction } from './edit-instructions.ts';

export { EDIT_INSTRUCTIONS, findEditByText, heldOutPhrases, trainingPhrases } from './edit-instructions.ts';
export type { EditId, EditInstruction, Paraphrase } from './edit-instructions.ts';

type Rgb = [number, number, number];
/** Per-pixel function; (u, v) are the pixel centre in [0, 1]² (u across, v down). */
type PixelFn = (r: number, g: number, b: number, u: number, v: number) => Rgb;

const sat = (r: number, g: number, b: number, s: number): Rgb => {
  const y = luma709(r, g, b);
  return [y + s * (r - y), y + s * (g - y), y + s * (b - y)];
};
const pow = (x: number, e: number): number => Math.pow(Math.max(0, x), e);
/** r² for the vignette: squared distance to the centre over the half diagonal. */
const radius2 = (u: number, v: number): number => ((u - 0.5) ** 2 + (v - 0.5) ** 2) / 0.5;

const PIXEL_FNS: Readonly<Record<EditId, PixelFn>> = {
  dark: (r, g, b) => [0.55 * pow(r, 1.3), 0.55 * pow(g, 1.3), 0.55 * pow(b, 1.3)],
  sunset: (r, g, b, _u, v) => {
    const glow = 0.35 * (1 - v) * (1 - v);
    const shade = v > 0.5 ? 1 - 0.2 * (v - 0.5) : 1;
    const wr = r * 1.08 + 0.06;
    const wg = g * 0.92 + 0.02;
    const wb = b * 0.72;
    // screen blend with an orange light
    const sr = 1 - (1 - wr) * (1 - glow * 1.0);
    const sg = 1 - (1 - wg) * (1 - glow * 0.55);
    const sb = 1 - (1 - wb) * (1 - glow * 0.25);
    return [sr * shade, sg * shade, sb * shade];
  },
  black_and_white: (r, g, b) => {
    const y = luma709(r, g, b);
    return [y, y, y];
  },
  warmer: (r, g, b) => [r * 1.08 + 0.03, g * 1.02, b * 0.88],
  cooler: (r, g, b) => [r * 0.88, g, b * 1.08 + 0.03],
  more_contrast: (r, g, b) => [(r - 0.5) * 1.45 + 0.5, (g - 0.5) * 1.45 + 0.5, (b - 0.5) * 1.45 + 0.5],
  vintage: (r, g, b, u, v) => {
    const [sr, sg, sb] = sat(r, g, b, 0.6);
    const vig = 1 - 0.35 * radius2(u, v);
    return [(0.08 + 0.84 * sr + 0.04) * vig, (0.08 + 0.84 * sg + 0.01) * vig, (0.08 + 0.84 * sb - 0.04) * vig];
  },
  night: (r, g, b) => {
    const [sr, sg, sb] = sat(r, g, b, 0.4);
    return [0.35 * pow(sr, 1.3) * 0.8, 0.35 * pow(sg, 1.3) * 0.9, 0.35 * pow(sb, 1.3) * 1.25];
  },
  brighter: (r, g, b) => [pow(r, 0.7), pow(g, 0.7), pow(b, 0.7)],
  sepia: (r, g, b) => [0.393 * r + 0.769 * g + 0.189 * b, 0.349 * r + 0.686 * g + 0.168 * b, 0.272 * r + 0.534 * g + 0.131 * b],
  desaturate: (r, g, b) => sat(r, g, b, 0.35),
  foggy: (r, g, b, _u, v) => {
    const a = 0.6 - 0.25 * v;
    return [r + a * (0.82 - r), g + a * (0.84 - g), b + a * (0.86 - b)];
  },
  vivid: (r, g, b) => sat(r, g, b, 1.6),
  invert: (r, g, b) => [1 - r, 1 - g, 1 - b],
  less_contrast: (r, g, b) => [(r - 0.5) * 0.6 + 0.5, (g - 0.5) * 0.6 + 0.5, (b - 0.5) * 0.6 + 0.5],
  vignette: (r, g, b, u, v) => {
    const k = 1 - 0.6 * radius2(u, v);
    return [r * k, g * k, b * k];
  },
  teal_orange: (r, g, b) => {
    const y = luma709(r, g, b);
    const hi = Math.min(1, Math.max(0, (y - 0.35) / 0.5));
    const lo = 1 - hi;
    // teal (−R, +G, +B) in shadows, orange (+R, ±G, −B) in highlights, amounts 0.12
    return [r - 0.12 * lo + 0.12 * hi, g + 0.04 * lo + 0.02 * hi, b + 0.1 * lo - 0.12 * hi];
  },
};

const clamp = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Apply an edit to an RGB image; returns a new image. */
export function applyEdit(id: EditId, img: PlanarImage): PlanarImage {
  if (img.channels !== 3) throw new RangeError('edits need RGB');
  const fn = PIXEL_FNS[id];
  const { width: w, height: h } = img;
  const n = w * h;
  const out = createImage(w, h, 3);
  const s = img.data;
  for (let y = 0; y < h; y++) {
    const v = (y + 0.5) / h;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const [r, g, b] = fn(s[i] as number, s[n + i] as number, s[2 * n + i] as number, (x + 0.5) / w, v);
      out.data[i] = clamp(r);
      out.data[n + i] = clamp(g);
      out.data[2 * n + i] = clamp(b);
    }
  }
  return out;
}

/**
 * The edits whose result is always grey, found by running each procedural edit (the training
 * targets' definition) on a probe of saturated colours at every position: a result with any
 * colour left rules the edit out. The engine makes these edits' results grey (the pack's
 * instruction table lists them), because a small network leaves a faint tint.
 */
export function achromaticEdits(): EditId[] {
  const w = 16;
  const h = 16;
  const probe = createImage(w, h, 3);
  const n = w * h;
  for (let i = 0; i < n; i++) {
    // hue around the wheel along x, brightness along y
    const hue = ((i % w) / w) * 2 * Math.PI;
    const v = 0.2 + (0.7 * Math.floor(i / w)) / h;
    probe.data[i] = v * (0.5 + 0.5 * Math.cos(hue));
    probe.data[n + i] = v * (0.5 + 0.5 * Math.cos(hue - (2 * Math.PI) / 3));
    probe.data[2 * n + i] = v * (0.5 + 0.5 * Math.cos(hue + (2 * Math.PI) / 3));
  }
  return EDIT_INSTRUCTIONS.map((e) => e.id).filter((id) => {
    const out = applyEdit(id, probe).data;
    for (let i = 0; i < n; i++) {
      const r = out[i] as number;
      if (Math.abs(r - (out[n + i] as number)) > 1e-6 || Math.abs(r - (out[2 * n + i] as number)) > 1e-6) return false;
    }
    return true;
  });
}

export function editById(id: EditId): EditInstruction {
  const e = EDIT_INSTRUCTIONS.find((x) => x.id === id);
  if (!e) throw new RangeError(`unknown edit ${id}`);
  return e;
}
