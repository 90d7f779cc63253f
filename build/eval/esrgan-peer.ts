/**
 * Pretrained super-resolution peers from npm: the models that @upscalerjs/esrgan-slim and
 * @upscalerjs/esrgan-medium ship (TF.js layers models; despite the package names the architecture
 * is RDN, trained on bicubic-downsampled DIV2K, per the packages' own model definitions). Each is
 * run as those packages run in Node: TF.js (the backend chosen by initEvalBackend), the package's
 * own model definition (scale, input/output range, custom-layer setup), and the model files read
 * from node_modules. The whole low-res image goes through in one call (eval crops are small).
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import type { PlanarImage } from '../../training/data/image.ts';
import { createImage } from '../../training/data/image.ts';
import { loadLayersModelFromDir, packageRoot, packageVersion, requireLocal } from './tfjs-local.ts';

export type EsrganPackage = '@upscalerjs/esrgan-slim' | '@upscalerjs/esrgan-medium' | '@upscalerjs/esrgan-thick';

/** The subset of an UpscalerJS model definition used here. */
interface UpscalerModelDefinition {
  scale: number;
  modelType: 'layers' | 'graph';
  inputRange?: [number, number];
  outputRange?: [number, number];
  setup?: (tfjs: typeof tf) => void;
  _internals: { path: string; name: string; version: string };
  meta?: { architecture?: string; size?: string; dataset?: string; modelFileName?: string };
}

/** A loaded peer model. */
export interface EsrganPeer {
  /** table label, e.g. "esrgan-slim ×4" */
  readonly label: string;
  readonly pkg: EsrganPackage;
  readonly version: string;
  readonly scale: number;
  /** architecture and training data, from the package's model definition */
  readonly about: string;
  /** Upscale one image in [0, 1] by `scale`; output clamped to [0, 1]. */
  upscale(lr: PlanarImage): Promise<PlanarImage>;
  dispose(): void;
}

/** Peers the table runs (each only when installed; thick is not a dependency: 115 MB, install it to get its row). */
export const ESRGAN_PACKAGES: readonly EsrganPackage[] = ['@upscalerjs/esrgan-slim', '@upscalerjs/esrgan-medium', '@upscalerjs/esrgan-thick'];

/** true when the package can be resolved from this repo. */
export function isInstalled(pkg: EsrganPackage): boolean {
  try {
    packageRoot(pkg, `${pkg}/2x`);
    return true;
  } catch {
    return false;
  }
}

function toNhwcBatch(img: PlanarImage, lo: number, hi: number): tf.Tensor4D {
  const { width: w, height: h } = img;
  const n = w * h;
  const k = hi - lo;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[3 * i + c] = lo + k * (img.data[c * n + i] as number);
  return tf.tensor4d(out, [1, h, w, 3]);
}

function fromNhwc(data: Float32Array | Int32Array | Uint8Array, w: number, h: number, lo: number, hi: number): PlanarImage {
  const img = createImage(w, h, 3);
  const n = w * h;
  const k = hi - lo;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = ((data[3 * i + c] as number) - lo) / k;
      img.data[c * n + i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return img;
}

/** Load one peer (`scale` ∈ 2, 3, 4, 8 as the packages ship). */
export async function loadEsrganPeer(pkg: EsrganPackage, scale: number): Promise<EsrganPeer> {
  const entry = `${pkg}/${scale}x`;
  const mod = requireLocal(entry) as { default?: UpscalerModelDefinition } & UpscalerModelDefinition;
  const def = mod.default ?? mod;
  if (def.scale !== scale) throw new Error(`${entry} reports scale ${def.scale}`);
  if (def.modelType !== 'layers') throw new Error(`${entry} is a ${def.modelType} model; only layers models are supported here`);
  def.setup?.(tf);
  const root = packageRoot(pkg, entry);
  const model = await loadLayersModelFromDir(path.join(root, def._internals.path));
  const [inLo, inHi] = def.inputRange ?? [0, 1];
  const [outLo, outHi] = def.outputRange ?? [0, 1];
  const m = def.meta ?? {};
  return {
    label: `${pkg.replace('@upscalerjs/', '')} ×${scale}`,
    pkg,
    version: packageVersion(pkg, entry),
    scale,
    about: `${m.architecture ?? '?'} (${m.size ?? '?'}), trained on ${m.dataset ?? '?'}: ${m.modelFileName ?? ''}`,
    async upscale(lr) {
      const y = tf.tidy(() => model.predict(toNhwcBatch(lr, inLo, inHi)) as tf.Tensor4D);
      const [, oh, ow] = y.shape;
      const data = await y.data();
      y.dispose();
      if (oh !== lr.height * scale || ow !== lr.width * scale) throw new Error(`${entry}: output ${ow}x${oh} for input ${lr.width}x${lr.height}`);
      return fromNhwc(data, ow, oh, outLo, outHi);
    },
    dispose() {
      model.dispose();
    },
  };
}
