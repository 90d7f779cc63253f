/**
 * What a CoDi SD export says about itself: `codi_adapter/codi_adapter.json` (written by the
 * trainer's exporter, untrusted here, parsed with zod) and the mix-point levels of the backbone
 * UNet, which the engine needs to feed the plain UNet zero features when no adapter runs.
 */
import { z } from 'zod';
import { SIGMA_DATA } from '../../../core/math/boundary.ts';
import type { WireValueInfo } from './onnx-wire.ts';

export const CODI_ADAPTER_DIR = 'codi_adapter';
export const CODI_ADAPTER_JSON = `${CODI_ADAPTER_DIR}/codi_adapter.json`;
export const CODI_ADAPTER_GRAPH = `${CODI_ADAPTER_DIR}/model.onnx`;

/** Condition channels of each task (VAE latents ×scaling factor, + the latent-size mask for inpaint). */
export const CODI_CONDITION_CHANNELS = { inpaint: 5, restore: 4, edit: 4 } as const;
export type CodiTask = keyof typeof CODI_CONDITION_CHANNELS;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex sha256');

export const codiAdapterJsonSchema = z
  .looseObject({
    format: z.literal('codi-sd-adapter/1'),
    task: z.enum(['inpaint', 'restore', 'edit']),
    condition: z.looseObject({ channels: z.number().int().min(1).max(64), kind: z.enum(['inpaint', 'restore', 'edit']) }),
    mixPoints: z.number().int().min(1).max(64),
    predictionType: z.enum(['epsilon', 'v_prediction']),
    backboneUnetSha256: sha256,
    sampler: z.looseObject({
      N: z.number().int().min(1).max(1000),
      defaultSteps: z.number().int().min(1).max(8),
      sigmaData: z.number().positive(),
    }),
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((j) => j.condition.kind === j.task, { message: 'condition.kind must equal task' })
  .refine((j) => j.condition.channels === CODI_CONDITION_CHANNELS[j.task], { message: 'condition.channels does not match the task (inpaint 5, restore 4, edit 4)' })
  // The engine's boundary scalings (core/math/boundary.ts) are those of σ_data = 0.5.
  .refine((j) => j.sampler.sigmaData === SIGMA_DATA, { message: `sampler.sigmaData must be ${SIGMA_DATA}` });
export type CodiAdapterJson = z.infer<typeof codiAdapterJsonSchema>;

/** Parse codi_adapter.json text; the message names the first field that is wrong. */
export function parseCodiAdapterJson(text: string): CodiAdapterJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${CODI_ADAPTER_JSON} is not valid JSON: ${(err as Error).message}`);
  }
  const res = codiAdapterJsonSchema.safeParse(raw);
  if (!res.success) {
    const first = res.error.issues[0];
    throw new Error(`${CODI_ADAPTER_JSON} is invalid at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'unknown'}`);
  }
  return res.data;
}

/**
 * Downsampling factor of each mix point of a diffusers SD UNet config: conv_in, every resnet
 * (+ attention) of each down block, each down block's downsampler but the last, the mid block.
 * Null when the config does not say (no down_block_types or layers_per_block).
 */
export function sdMixPointStrides(config: Record<string, unknown>): number[] | null {
  const blocks = config.down_block_types;
  const lpb = config.layers_per_block;
  if (!Array.isArray(blocks) || blocks.length === 0) return null;
  const perBlock = typeof lpb === 'number' ? blocks.map(() => lpb) : Array.isArray(lpb) && lpb.length === blocks.length && lpb.every((n) => typeof n === 'number') ? lpb : null;
  if (!perBlock || perBlock.some((n) => !Number.isInteger(n) || n < 1)) return null;
  const strides = [1];
  perBlock.forEach((n, b) => {
    for (let i = 0; i < n; i++) strides.push(2 ** b);
    if (b < perBlock.length - 1) strides.push(2 ** (b + 1));
  });
  strides.push(2 ** (perBlock.length - 1));
  return strides;
}

/**
 * Each feature input's downsampling factor, from the graph's declared shapes when they tell it
 * (fixed sizes relative to `sample`'s, or "height/4" / "height_div4" names), else from the SD config.
 */
export function adapterFeatureStrides(inputs: readonly WireValueInfo[], features: readonly string[], unetConfig: Record<string, unknown>): number[] | null {
  const sampleH = inputs.find((i) => i.name === 'sample')?.shape[2];
  const declared = features.map((name) => {
    const d = inputs.find((i) => i.name === name)?.shape[2];
    if (typeof d === 'number' && typeof sampleH === 'number' && d > 0 && sampleH % d === 0) return sampleH / d;
    const m = typeof d === 'string' ? /^height(?:\/(\d+)|_div(\d+))?$/.exec(d) : null;
    return m ? Number(m[1] ?? m[2] ?? 1) : null;
  });
  if (declared.every((s): s is number => s !== null)) return declared;
  const fromConfig = sdMixPointStrides(unetConfig);
  return fromConfig && fromConfig.length === features.length ? fromConfig : null;
}
