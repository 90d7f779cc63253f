/**
 * Loading TensorFlow.js layers models that npm packages ship, from the local node_modules only
 * (no network, no file:// fetch): the model JSON and its weight shards are read here and handed
 * to tf.loadLayersModel through an in-memory IO handler.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { initTrainingBackend } from '../../training/tf/backend.ts';

const require = createRequire(import.meta.url);

/** The parts of a TF.js model.json that loading needs. */
export interface LayersModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** Concatenate the weight shards in manifest order (TF.js expects one buffer). */
function concatShards(shards: readonly Uint8Array[]): ArrayBuffer {
  const total = shards.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const s of shards) {
    out.set(s, off);
    off += s.byteLength;
  }
  return out.buffer;
}

/** Build a layers model from a parsed model.json and a shard reader (`paths` entry → bytes). */
export async function loadLayersModelFrom(json: LayersModelJson, readShard: (name: string) => Uint8Array): Promise<tf.LayersModel> {
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readShard(p)));
  const handler = tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: concatShards(shards) });
  return tf.loadLayersModel(handler);
}

/** A standard model.json + .bin shards folder (as @upscalerjs packages ship them). */
export async function loadLayersModelFromDir(modelJsonPath: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as LayersModelJson;
  const dir = path.dirname(modelJsonPath);
  return loadLayersModelFrom(json, (p) => readFileSync(path.join(dir, p)));
}

/** Folder of an installed package, found from one of its exported entry points. */
export function packageRoot(pkgName: string, entry: string = pkgName): string {
  let dir = path.dirname(require.resolve(entry));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    try {
      const name = (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name;
      if (name === pkgName) return dir;
    } catch {
      // no package.json at this level
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package ${pkgName} not found above ${entry}`);
    dir = up;
  }
}

/** Version string of an installed package. */
export function packageVersion(pkgName: string, entry: string = pkgName): string {
  const root = packageRoot(pkgName, entry);
  return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** CommonJS `require` relative to this folder (the nsfwjs model files are UMD bundles). */
export function requireLocal(specifier: string): unknown {
  return require(specifier);
}

/**
 * The TF.js backend the evaluation runs on: the training backend chooser (wasm with SIMD here;
 * tfjs-node when installed), so peers run as those packages run in Node.
 */
export async function initEvalBackend(log: (line: string) => void = () => {}): Promise<string> {
  const b = await initTrainingBackend({ prefer: 'auto', log });
  return `${b.name} (${b.why})`;
}
