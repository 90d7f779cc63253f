/**
 * A deep-feature distance from a pretrained network that an npm package ships: the InceptionV3
 * inside nsfwjs 4.4 (Keras 2.2.4, 299 × 299 input, fine-tuned for NSFW classification). Features
 * are its pooled penultimate layer `flatten_1` (mixed10 → 8 × 8 average pool → 2048), input
 * preprocessed exactly as nsfwjs does (÷255, bilinear resize with aligned corners).
 *
 * This is NOT FID: FID uses the pytorch-fid Inception weights, which no npm package ships, and these
 * weights were fine-tuned for another task. Values are for relative comparisons inside one table
 * only, hence the name "Inception-nsfwjs Fréchet distance". nsfwjs packs its weights as UMD
 * bundles (`dist/models/<name>/*.min.js`, base64 shards); they are required from node_modules and
 * decoded here, so nothing is fetched. If the InceptionV3 cannot be loaded, the MobileNetV2 the
 * same package ships is used instead and the name says so.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import type { PlanarImage } from '../../training/data/image.ts';
import { frechetDistance, meanPairedL2 } from './frechet.ts';
import type { LayersModelJson } from './tfjs-local.ts';
import { loadLayersModelFrom, packageRoot, packageVersion, requireLocal } from './tfjs-local.ts';

/** A loaded feature network. */
export interface FeatureExtractor {
  /** e.g. "InceptionV3 (nsfwjs 4.4.0), flatten_1" */
  readonly network: string;
  /** The name to print for the Fréchet distance on these features. */
  readonly distanceName: string;
  readonly dim: number;
  /** One feature vector per image (images in [0, 1], any size). */
  extract(images: readonly PlanarImage[]): Promise<Float32Array[]>;
  dispose(): void;
}

interface NsfwjsModelSpec {
  folder: string;
  shards: number;
  size: number;
  /** pooled penultimate layer */
  layer: string;
  label: string;
  short: string;
}

const INCEPTION: NsfwjsModelSpec = { folder: 'inception_v3', shards: 6, size: 299, layer: 'flatten_1', label: 'InceptionV3', short: 'Inception' };
const MOBILENET: NsfwjsModelSpec = { folder: 'mobilenet_v2', shards: 1, size: 224, layer: 'flatten_1', label: 'MobileNetV2', short: 'MobileNetV2' };

function decodeUmd(file: string): unknown {
  const mod = requireLocal(file) as { default?: unknown };
  return mod.default ?? mod;
}

async function loadNsfwjsModel(spec: NsfwjsModelSpec): Promise<{ model: tf.LayersModel; version: string }> {
  const root = packageRoot('nsfwjs');
  const dir = path.join(root, 'dist', 'models', spec.folder);
  const json = decodeUmd(path.join(dir, 'model.min.js')) as LayersModelJson;
  const model = await loadLayersModelFrom(json, (name) => {
    const b64 = decodeUmd(path.join(dir, `${name}.min.js`));
    if (typeof b64 !== 'string') throw new Error(`nsfwjs shard ${name} is not a base64 string`);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  });
  return { model, version: packageVersion('nsfwjs') };
}

function pooledLayerName(model: tf.LayersModel, preferred: string): string {
  if (model.layers.some((l) => l.name === preferred)) return preferred;
  // fall back to the last pooling/flatten layer before the classifier head
  const pool = [...model.layers].reverse().find((l) => /pool|flatten/i.test(l.getClassName()));
  if (!pool) throw new Error('no pooled feature layer found');
  return pool.name;
}

function toNhwc(img: PlanarImage): tf.Tensor3D {
  const { width: w, height: h } = img;
  const n = w * h;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[3 * i + c] = img.data[c * n + i] as number;
  return tf.tensor3d(out, [h, w, 3]);
}

/** Load the feature network: nsfwjs's InceptionV3, else its MobileNetV2 (said in the name). */
export async function loadFeatureExtractor(prefer: 'inception' | 'mobilenet' = 'inception'): Promise<FeatureExtractor> {
  let spec = prefer === 'inception' ? INCEPTION : MOBILENET;
  let loaded: { model: tf.LayersModel; version: string };
  let fallbackNote = '';
  try {
    loaded = await loadNsfwjsModel(spec);
  } catch (err) {
    if (spec !== INCEPTION) throw err;
    fallbackNote = ` (InceptionV3 failed to load: ${err instanceof Error ? err.message : String(err)})`;
    spec = MOBILENET;
    loaded = await loadNsfwjsModel(spec);
  }
  const layer = pooledLayerName(loaded.model, spec.layer);
  const sub = tf.model({ inputs: loaded.model.inputs, outputs: loaded.model.getLayer(layer).output });
  const dim = (sub.outputs[0]?.shape.slice(1) ?? []).reduce<number>((a, b) => a * (b ?? 1), 1);
  const size = spec.size;
  return {
    network: `${spec.label} (nsfwjs ${loaded.version}), layer ${layer}${fallbackNote}`,
    distanceName: `${spec.short}-nsfwjs Fréchet distance`,
    dim,
    async extract(images) {
      const out: Float32Array[] = [];
      for (const img of images) {
        const feat = tf.tidy(() => {
          const x = toNhwc(img);
          const resized = img.width === size && img.height === size ? x : tf.image.resizeBilinear(x, [size, size], true);
          return (sub.predict(resized.reshape([1, size, size, 3])) as tf.Tensor).reshape([-1]);
        });
        out.push(Float32Array.from(await feat.data()));
        feat.dispose();
      }
      return out;
    },
    dispose() {
      loaded.model.dispose();
    },
  };
}

/** Feature distances of a set of outputs to their references. */
export interface FeatureDistances {
  /** Fréchet distance between Gaussian fits (null when fewer than 2 images). */
  frechet: number | null;
  /** mean ‖f(output_i) − f(reference_i)‖ over pairs */
  pairedL2: number;
}

/** Both distances from precomputed features. */
export function featureDistances(outputs: readonly Float32Array[], references: readonly Float32Array[]): FeatureDistances {
  return {
    frechet: outputs.length >= 2 && references.length >= 2 ? frechetDistance(outputs, references) : null,
    pairedL2: meanPairedL2(outputs, references),
  };
}
