/**
 * The diffusers configs a pack carries (model_index.json, scheduler_config.json, component
 * config.json) and the project's sidecar `codi-diffusers.json`, which records what the import
 * found (components, graph IO roles, scheduler, VAE scaling, guidance defaults) next to the
 * standard manifest.json. Everything read from a pack folder is untrusted and parsed with zod.
 */
import { z } from 'zod';
import type { NoiseScheduleSpec } from '../../../core/packs/manifest.ts';
import { packRelativePath } from '../../../core/packs/manifest.ts';
import type { PredictionType } from '../../../core/math/parameterization.ts';

export const SIDECAR = 'codi-diffusers.json';

/** model_index.json: `{component: [library, class] | [null, null], _class_name, ...}`. */
export const modelIndexSchema = z.record(z.string(), z.unknown()).refine((o) => typeof o._class_name === 'string', { message: 'model_index.json has no _class_name' });

/** The fields of diffusers' scheduler_config.json that change sampling. */
export const schedulerConfigSchema = z.looseObject({
  _class_name: z.string(),
  num_train_timesteps: z.number().int().min(2).max(10000).default(1000),
  beta_start: z.number().positive().default(0.00085),
  beta_end: z.number().positive().default(0.012),
  beta_schedule: z.enum(['scaled_linear', 'linear', 'squaredcos_cap_v2']).default('scaled_linear'),
  prediction_type: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
  timestep_spacing: z.enum(['leading', 'trailing', 'linspace']).default('leading'),
  steps_offset: z.number().int().min(0).max(100).default(0),
  set_alpha_to_one: z.boolean().default(false),
  original_inference_steps: z.number().int().min(1).max(1000).optional(),
  trained_betas: z.unknown().optional(),
});
export type SchedulerConfig = z.infer<typeof schedulerConfigSchema>;

/** Sampler families a scheduler class maps to (core/samplers). */
export type DiffusersSampler = 'ddim' | 'lcm' | 'dpmpp-2m';

/** What the pipeline needs from a scheduler config, in core/ terms. */
export const schedulerSpecSchema = z.object({
  className: z.string().max(80),
  sampler: z.enum(['ddim', 'lcm', 'dpmpp-2m']),
  schedule: z.object({ kind: z.enum(['scaled-linear', 'cosine', 'linear']), trainSteps: z.number().int(), betaStart: z.number().optional(), betaEnd: z.number().optional() }),
  prediction: z.enum(['v', 'epsilon', 'x']),
  spacing: z.enum(['leading', 'trailing', 'linspace']),
  stepsOffset: z.number().int().min(0),
  setAlphaToOne: z.boolean(),
  originalSteps: z.number().int().positive().optional(),
});
export type SchedulerSpec = z.infer<typeof schedulerSpecSchema>;

const LCM_CLASSES = /^(LCMScheduler|TCDScheduler)$/;
const DPM_CLASSES = /^(DPMSolverMultistepScheduler|DPMSolverSinglestepScheduler|DEISMultistepScheduler|UniPCMultistepScheduler)$/;

/** Map a diffusers scheduler_config.json onto core's schedule and sampler choices. */
export function schedulerSpec(raw: unknown): SchedulerSpec {
  const c = schedulerConfigSchema.parse(raw);
  if (c.trained_betas !== undefined && c.trained_betas !== null) throw new Error('scheduler_config.json uses trained_betas, which this engine does not support');
  const kind: NoiseScheduleSpec['kind'] = c.beta_schedule === 'scaled_linear' ? 'scaled-linear' : c.beta_schedule === 'linear' ? 'linear' : 'cosine';
  const prediction: PredictionType = c.prediction_type === 'v_prediction' ? 'v' : c.prediction_type === 'sample' ? 'x' : 'epsilon';
  return {
    className: c._class_name,
    sampler: LCM_CLASSES.test(c._class_name) ? 'lcm' : DPM_CLASSES.test(c._class_name) ? 'dpmpp-2m' : 'ddim',
    schedule: { kind, trainSteps: c.num_train_timesteps, ...(kind === 'cosine' ? {} : { betaStart: c.beta_start, betaEnd: c.beta_end }) },
    prediction,
    spacing: c.timestep_spacing,
    stepsOffset: c.steps_offset,
    setAlphaToOne: c.set_alpha_to_one,
    ...(c.original_inference_steps ? { originalSteps: c.original_inference_steps } : {}),
  };
}

const ioName = z.string().min(1).max(128);

/** Where the residual inputs of a ControlNet-ready UNet (or outputs of a ControlNet) are. */
export const residualNamesSchema = z.object({ down: z.array(ioName).max(32), mid: ioName.nullable() });
export type ResidualNames = z.infer<typeof residualNamesSchema>;

export const graphEntrySchema = z.object({
  path: packRelativePath,
  /** External-data files this graph reads (pack-relative). */
  externalData: z.array(packRelativePath).max(64),
});

/**
 * The CoDi inputs of a backbone UNet exported for CoDi SD adapters: the adapter's feature at
 * each mix point and μ (docs/method.md §3.1). `strides` is each mix point's downsampling factor,
 * needed only to feed zeros (μ = 0: the plain UNet) when no adapter runs; null when the import
 * could not tell them.
 */
export const adapterInputsSchema = z.object({
  features: z.array(ioName).min(1).max(64),
  mu: ioName,
  strides: z.array(z.number().int().min(1).max(64)).max(64).nullable(),
});
export type AdapterInputs = z.infer<typeof adapterInputsSchema>;

/** A CoDi SD adapter graph (codi_adapter/model.onnx) and how it is sampled. */
export const codiAdapterEntrySchema = graphEntrySchema.extend({
  task: z.enum(['inpaint', 'restore', 'edit']),
  conditionName: ioName,
  conditionChannels: z.number().int().min(1).max(64),
  features: z.array(ioName).min(1).max(64),
  mu: ioName,
  /** N of the distillation grid the adapter was trained on. */
  distillSteps: z.number().int().min(1).max(1000),
});
export type CodiAdapterEntry = z.infer<typeof codiAdapterEntrySchema>;

export const sidecarSchema = z.object({
  format: z.literal('codi-diffusers'),
  version: z.literal(1),
  /**
   * 'pipeline': a full SD-class pipeline; 'controlnet': an adapter on another pack's UNet;
   * 'codi-adapter': a CoDi SD adapter whose features and μ feed another pack's UNet.
   */
  kind: z.enum(['pipeline', 'controlnet', 'codi-adapter']),
  pipelineClass: z.string().max(120),
  unet: graphEntrySchema.extend({ inChannels: z.number().int().min(1).max(64), residuals: residualNamesSchema, adapter: adapterInputsSchema.optional() }).optional(),
  textEncoder: graphEntrySchema.extend({ hiddenSize: z.number().int().min(1).max(8192) }).optional(),
  vaeEncoder: graphEntrySchema.optional(),
  vaeDecoder: graphEntrySchema.optional(),
  /** taesd-style preview decoder (same IO as vae_decoder) with its own latent scale. */
  vaeDecoderTiny: graphEntrySchema.extend({ scalingFactor: z.number().positive() }).optional(),
  controlnet: graphEntrySchema.extend({ residuals: residualNamesSchema, condName: ioName, scaleName: ioName.nullable() }).optional(),
  codiAdapter: codiAdapterEntrySchema.optional(),
  tokenizer: z.object({ dir: packRelativePath, maxLength: z.number().int().min(2).max(4096) }).optional(),
  scheduler: schedulerSpecSchema.optional(),
  vae: z.object({ scalingFactor: z.number().positive(), factor: z.number().int().min(1).max(64), latentChannels: z.number().int().min(1).max(64) }).optional(),
  guidance: z.object({ text: z.number().min(0).max(50), image: z.number().min(0).max(50) }),
});
export type DiffusersSidecar = z.infer<typeof sidecarSchema>;

/** Parse untrusted sidecar JSON text. */
export function parseSidecar(text: string): DiffusersSidecar {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${SIDECAR} is not valid JSON: ${(err as Error).message}`);
  }
  const res = sidecarSchema.safeParse(raw);
  if (!res.success) {
    const first = res.error.issues[0];
    throw new Error(`${SIDECAR} is invalid at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'unknown'}`);
  }
  return res.data;
}

const DOWN_IN = /^down_block_(?:additional_residuals?|res_samples?)?[._]?(\d+)$/;
const DOWN_OUT = /^down_block_res_samples?[._]?(\d+)$/;
const MID_IN = /^mid_block_(?:additional_residual|res_sample)$/;
const MID_OUT = /^mid_block_res_sample$/;

function byIndex(names: readonly string[], re: RegExp): string[] {
  return names
    .map((n) => [n, re.exec(n)] as const)
    .filter((x): x is readonly [string, RegExpExecArray] => x[1] !== null)
    .sort((a, b) => Number(a[1][1]) - Number(b[1][1]))
    .map((x) => x[0]);
}

/** Residual inputs of a UNet graph (ONNX ControlNet convention; empty when it has none). */
export function unetResidualInputs(inputNames: readonly string[]): ResidualNames {
  return { down: byIndex(inputNames, DOWN_IN), mid: inputNames.find((n) => MID_IN.test(n)) ?? null };
}

/** Residual outputs of a ControlNet graph. */
export function controlnetResidualOutputs(outputNames: readonly string[]): ResidualNames {
  return { down: byIndex(outputNames, DOWN_OUT), mid: outputNames.find((n) => MID_OUT.test(n)) ?? null };
}

const ADAPTER_FEATURE = /^adapter_feature_(\d+)$/;
export const ADAPTER_MU = 'adapter_mu';

/** The CoDi feature names (by index) and μ among a graph's input or output names; null when it has none. */
export function codiAdapterNames(names: readonly string[]): { features: string[]; mu: string } | null {
  const features = byIndex(names, ADAPTER_FEATURE);
  if (features.length === 0 && !names.includes(ADAPTER_MU)) return null;
  return { features, mu: ADAPTER_MU };
}
