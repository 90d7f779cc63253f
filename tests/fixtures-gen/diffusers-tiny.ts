/**
 * Tiny random-weight Stable-Diffusion-class packs in the diffusers / Optimum ONNX folder layout,
 * generated at test time with the project's own ONNX writer. The networks are a few convolutions
 * (not a real UNet); what matches the real exports is the folder layout, the graph input and
 * output names, dtypes and ranks, the CLIP tokenizer files, ONNX external data, and the configs.
 *
 * Layout written by {@link writeTinyPipeline}:
 *   model_index.json, scheduler/scheduler_config.json, tokenizer/{vocab.json, merges.txt,
 *   tokenizer_config.json, special_tokens_map.json}, text_encoder/model.onnx,
 *   unet/model.onnx (+ unet/model.onnx_data when externalData), vae_encoder/model.onnx,
 *   vae_decoder/model.onnx, vae_decoder_tiny/model.onnx (optional), each with config.json.
 * {@link writeTinyControlNet} writes controlnet/model.onnx (+ config.json, model_index.json).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../core/rng.ts';
import { attr, ONNX_OPSET, OnnxGraph } from '../../training/export/onnx-builder.ts';
import { encodeModel, OnnxDataType } from '../../training/export/onnx-proto.ts';
import type { OnnxDim, OnnxValueInfo } from '../../training/export/onnx-proto.ts';
import { encodeEntry, lenField, strField, varField } from '../../electron/engine/diffusers/onnx-wire.ts';

/** Sizes of the tiny models. */
export const TINY = {
  hidden: 16,
  seq: 77,
  latentChannels: 4,
  vaeFactor: 8,
  unetChannels: 8,
  scalingFactor: 0.18215,
} as const;

const f32 = (name: string, shape: OnnxDim[]): OnnxValueInfo => ({ name, elemType: OnnxDataType.float, shape });

/** A graph under construction with seeded random weights. */
class Net {
  readonly g = new OnnxGraph();
  private n = 0;
  constructor(private readonly rng: Rng) {}

  weight(dims: number[], std: number): string {
    const size = dims.reduce((a, b) => a * b, 1);
    return this.g.initializer(`w${this.n++}`, dims, this.rng.fillGaussian(new Float32Array(size), 0, std));
  }

  conv(x: string, cin: number, cout: number, k: number, stride = 1): string {
    const w = this.weight([cout, cin, k, k], 1 / Math.sqrt(cin * k * k));
    const b = this.weight([cout], 0.05);
    const p = (k - 1) / 2;
    return this.g.node('Conv', [x, w, b], [attr.ints('kernel_shape', [k, k]), attr.ints('strides', [stride, stride]), attr.ints('pads', [p, p, p, p])]);
  }

  silu(x: string): string {
    return this.g.node('Mul', [x, this.g.node('Sigmoid', [x])]);
  }

  dense(x: string, cin: number, cout: number): string {
    return this.g.node('Gemm', [x, this.weight([cin, cout], 1 / Math.sqrt(cin)), this.weight([cout], 0.05)]);
  }

  /** [N, C] → [N, C, 1, 1]. */
  toMap(x: string): string {
    return this.g.node('Unsqueeze', [x, this.g.constInt64([2, 3], [2])]);
  }

  /** Sinusoidal embedding of the timestep input (any dtype, shape [N]) → [N, C, 1, 1]. */
  timeEmbedding(t: string, tType: number, channels: number): string {
    const g = this.g;
    const tf = tType === OnnxDataType.float ? t : g.node('Cast', [t], [attr.int('to', OnnxDataType.float)]);
    const arg = g.node('Mul', [g.node('Unsqueeze', [tf, g.constInt64([1], [1])]), g.constFloat([1, 0.1, 0.01, 0.001], [1, 4])]);
    const emb = g.node('Concat', [g.node('Sin', [arg]), g.node('Cos', [arg])], [attr.int('axis', 1)]);
    return this.toMap(this.dense(emb, 8, channels));
  }

  /** Mean over the 77 tokens of encoder_hidden_states → [B, C, 1, 1]. */
  textEmbedding(ehs: string, channels: number): string {
    const pooled = this.g.node('ReduceMean', [ehs], [attr.ints('axes', [1]), attr.int('keepdims', 0)]);
    return this.toMap(this.dense(pooled, TINY.hidden, channels));
  }

  resize(x: string, s: number): string {
    const g = this.g;
    return g.node('Resize', [x, '', g.constFloat([1, 1, s, s], [4])], [attr.str('mode', 'nearest')]);
  }

  publish(value: string, name: string): void {
    this.g.nodes.push({ name: `out_${name}`, opType: 'Identity', inputs: [value], outputs: [name], attributes: [] });
  }

  bytes(name: string, inputs: OnnxValueInfo[], outputs: OnnxValueInfo[]): Uint8Array {
    return encodeModel({ graphName: name, docString: `tiny ${name} (test fixture)`, opset: ONNX_OPSET, nodes: this.g.nodes, initializers: this.g.initializers, inputs, outputs });
  }

  /**
   * The model with its initializers moved to `dataFile` as ONNX external data (location,
   * offset, length entries; data_location = EXTERNAL). The external tensors are written as a
   * second GraphProto occurrence, which protobuf merges into the first (repeated fields append).
   */
  bytesExternal(name: string, inputs: OnnxValueInfo[], outputs: OnnxValueInfo[], dataFile: string): { model: Uint8Array; data: Uint8Array } {
    const inits = this.g.initializers.splice(0);
    const inline = inits.filter((t) => t.raw.byteLength < 64);
    const external = inits.filter((t) => t.raw.byteLength >= 64);
    this.g.initializers.push(...inline);
    const head = this.bytes(name, inputs, outputs);
    const parts: Uint8Array[] = [];
    const tensors: Uint8Array[] = [];
    let offset = 0;
    for (const t of external) {
      // ONNX aligns external tensors to 4 KiB in large files; 64 bytes keeps the fixture small yet non-trivial.
      const pad = (64 - (offset % 64)) % 64;
      if (pad) parts.push(new Uint8Array(pad));
      offset += pad;
      const entries = [encodeEntry('location', dataFile), encodeEntry('offset', String(offset)), encodeEntry('length', String(t.raw.byteLength))];
      const dims = t.dims.map((d) => varField(1, d));
      tensors.push(lenField(5, concat([...dims, varField(2, t.dataType), strField(8, t.name), ...entries.map((e) => lenField(13, e)), varField(14, 1)])));
      parts.push(t.raw);
      offset += t.raw.byteLength;
    }
    return { model: concat([head, lenField(7, concat(tensors))]), data: concat(parts) };
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

export interface UnetOptions {
  /** Input channels of `sample`: 4 (text-to-image / ControlNet backbone), 8 (InstructPix2Pix), 9 (inpainting). */
  inChannels: 4 | 8 | 9;
  /** Timestep dtype: Optimum exports int64, the older diffusers script float32. */
  timestep: 'int64' | 'float32';
  /** Add down_block_additional_residuals_{0,1} and mid_block_additional_residual inputs. */
  residuals: boolean;
  seed: number;
}

/** Residual maps of the tiny UNet: level 0 at latent size, level 1 at half size. */
export const TINY_RESIDUALS = [{ level: 0 }, { level: 1 }] as const;

function timestepInfo(dtype: 'int64' | 'float32'): OnnxValueInfo {
  return { name: 'timestep', elemType: dtype === 'int64' ? OnnxDataType.int64 : OnnxDataType.float, shape: dtype === 'int64' ? ['steps'] : [1] };
}

function buildUnet(o: UnetOptions): { net: Net; inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] } {
  const net = new Net(new Rng(o.seed));
  const g = net.g;
  const C = TINY.unetChannels;
  const ts = timestepInfo(o.timestep);
  const inputs: OnnxValueInfo[] = [f32('sample', ['batch', o.inChannels, 'height', 'width']), ts, f32('encoder_hidden_states', ['batch', 'sequence', TINY.hidden])];
  if (o.residuals) {
    inputs.push(f32('down_block_additional_residuals_0', ['batch', C, 'height', 'width']));
    inputs.push(f32('down_block_additional_residuals_1', ['batch', C, 'height/2', 'width/2']));
    inputs.push(f32('mid_block_additional_residual', ['batch', C, 'height/2', 'width/2']));
  }
  const cond = g.node('Add', [net.timeEmbedding('timestep', ts.elemType, C), net.textEmbedding('encoder_hidden_states', C)]);
  let h0 = net.silu(g.node('Add', [net.conv('sample', o.inChannels, C, 3), cond]));
  if (o.residuals) h0 = g.node('Add', [h0, 'down_block_additional_residuals_0']);
  let d1 = net.silu(net.conv(h0, C, C, 3, 2));
  if (o.residuals) d1 = g.node('Add', [d1, 'down_block_additional_residuals_1']);
  let mid = net.silu(g.node('Add', [net.conv(d1, C, C, 3), cond]));
  if (o.residuals) mid = g.node('Add', [mid, 'mid_block_additional_residual']);
  const up = g.node('Add', [net.resize(mid, 2), h0]);
  net.publish(net.conv(up, C, TINY.latentChannels, 3), 'out_sample');
  return { net, inputs, outputs: [f32('out_sample', ['batch', TINY.latentChannels, 'height', 'width'])] };
}

function textEncoder(seed: number, vocabSize: number): Uint8Array {
  const net = new Net(new Rng(seed));
  const g = net.g;
  const D = TINY.hidden;
  const tok = g.node('Gather', [net.weight([vocabSize, D], 1), 'input_ids'], [attr.int('axis', 0)]);
  const x = g.node('Add', [tok, net.weight([TINY.seq, D], 0.5)]);
  const h = g.node('Tanh', [g.node('Add', [g.node('MatMul', [x, net.weight([D, D], 1 / Math.sqrt(D))]), net.weight([D], 0.05)])]);
  net.publish(h, 'last_hidden_state');
  net.publish(g.node('ReduceMean', [h], [attr.ints('axes', [1]), attr.int('keepdims', 0)]), 'pooler_output');
  return net.bytes(
    'text_encoder',
    [{ name: 'input_ids', elemType: OnnxDataType.int32, shape: ['batch', 'sequence'] }],
    [f32('last_hidden_state', ['batch', 'sequence', D]), f32('pooler_output', ['batch', D])],
  );
}

function vaeEncoder(seed: number): Uint8Array {
  const net = new Net(new Rng(seed));
  let x = net.silu(net.conv('sample', 3, 8, 3, 2));
  x = net.silu(net.conv(x, 8, 8, 3, 2));
  x = net.conv(net.silu(net.conv(x, 8, 8, 3, 2)), 8, TINY.latentChannels, 1);
  // Real VAE latents are ~N(0, 1/scaling²); scale so the pipeline's ×scaling_factor gives ~unit variance.
  net.publish(net.g.node('Mul', [x, net.g.constFloat([1 / TINY.scalingFactor], [])]), 'latent_sample');
  return net.bytes('vae_encoder', [f32('sample', ['batch', 3, 'height', 'width'])], [f32('latent_sample', ['batch', TINY.latentChannels, 'height/8', 'width/8'])]);
}

function vaeDecoder(seed: number, name: string): Uint8Array {
  const net = new Net(new Rng(seed));
  const x = net.silu(net.conv(net.resize('latent_sample', TINY.vaeFactor), TINY.latentChannels, 8, 3));
  net.publish(net.g.node('Tanh', [net.conv(x, 8, 3, 3)]), 'sample');
  return net.bytes(name, [f32('latent_sample', ['batch', TINY.latentChannels, 'latent_height', 'latent_width'])], [f32('sample', ['batch', 3, 'height', 'width'])]);
}

function controlNet(seed: number, timestep: 'int64' | 'float32'): Uint8Array {
  const net = new Net(new Rng(seed));
  const g = net.g;
  const C = TINY.unetChannels;
  const ts = timestepInfo(timestep);
  let c = net.silu(net.conv('controlnet_cond', 3, 8, 3, 2));
  c = net.silu(net.conv(c, 8, 8, 3, 2));
  c = net.conv(net.silu(net.conv(c, 8, 8, 3, 2)), 8, C, 1);
  const cond = g.node('Add', [net.timeEmbedding('timestep', ts.elemType, C), net.textEmbedding('encoder_hidden_states', C)]);
  const h = net.silu(g.node('Add', [g.node('Add', [net.conv('sample', TINY.latentChannels, C, 3), c]), cond]));
  const d1 = net.silu(net.conv(h, C, C, 3, 2));
  const mid = net.silu(net.conv(d1, C, C, 3));
  const scaled = (x: string) => g.node('Mul', [net.conv(x, C, C, 1), 'conditioning_scale']);
  net.publish(scaled(h), 'down_block_res_samples_0');
  net.publish(scaled(d1), 'down_block_res_samples_1');
  net.publish(scaled(mid), 'mid_block_res_sample');
  return net.bytes(
    'controlnet',
    [
      f32('sample', ['batch', TINY.latentChannels, 'height', 'width']),
      ts,
      f32('encoder_hidden_states', ['batch', 'sequence', TINY.hidden]),
      f32('controlnet_cond', ['batch', 3, 'image_height', 'image_width']),
      f32('conditioning_scale', []),
    ],
    [
      f32('down_block_res_samples_0', ['batch', C, 'height', 'width']),
      f32('down_block_res_samples_1', ['batch', C, 'height/2', 'width/2']),
      f32('mid_block_res_sample', ['batch', C, 'height/2', 'width/2']),
    ],
  );
}

// ---------------------------------------------------------------- tokenizer

/** GPT-2 / CLIP byte → printable unicode character table. */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return table;
}

/** Words the tiny BPE is trained on (merges learnt greedily by pair frequency). */
const CORPUS = 'a photo of a cat make it dark restore the old photo fill the hole turn the sky blue make it look like a painting a cat on a mat'.split(' ');

/** A CLIP-style BPE vocabulary: 256 bytes, 256 end-of-word bytes, learnt merges, then the two specials. */
export function tinyClipVocab(merges = 48): { vocab: Record<string, number>; merges: string[] } {
  const chars = bytesToUnicode();
  const tokens = [...chars, ...chars.map((c) => c + '</w>')];
  const words = CORPUS.map((w) => {
    const sym = [...new TextEncoder().encode(w)].map((b) => chars[b]!);
    sym[sym.length - 1] += '</w>';
    return sym;
  });
  const learnt: string[] = [];
  for (let m = 0; m < merges; m++) {
    const counts = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) counts.set(`${w[i]} ${w[i + 1]}`, (counts.get(`${w[i]} ${w[i + 1]}`) ?? 0) + 1);
    let best = '';
    let bestN = 0;
    for (const [k, n] of counts) if (n > bestN) [best, bestN] = [k, n];
    if (!best) break;
    const [a, b] = best.split(' ') as [string, string];
    learnt.push(best);
    tokens.push(a + b);
    for (const w of words) {
      for (let i = 0; i + 1 < w.length; i++) {
        if (w[i] === a && w[i + 1] === b) w.splice(i, 2, a + b);
      }
    }
  }
  tokens.push('<|startoftext|>', '<|endoftext|>');
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  return { vocab, merges: learnt };
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

async function writeTokenizer(dir: string, vocab: Record<string, number>, merges: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeJson(join(dir, 'vocab.json'), vocab);
  await writeFile(join(dir, 'merges.txt'), ['#version: 0.2', ...merges].join('\n') + '\n');
  const special = (content: string) => ({ __type: 'AddedToken', content, lstrip: false, normalized: true, rstrip: false, single_word: false });
  await writeJson(join(dir, 'tokenizer_config.json'), {
    add_prefix_space: false,
    bos_token: special('<|startoftext|>'),
    eos_token: special('<|endoftext|>'),
    pad_token: '<|endoftext|>',
    unk_token: special('<|endoftext|>'),
    do_lower_case: true,
    errors: 'replace',
    model_max_length: TINY.seq,
    tokenizer_class: 'CLIPTokenizer',
  });
  await writeJson(join(dir, 'special_tokens_map.json'), {
    bos_token: '<|startoftext|>',
    eos_token: '<|endoftext|>',
    pad_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
  });
}

export interface TinyPipelineOptions {
  unet: Omit<UnetOptions, 'seed'>;
  /** Scheduler config written to scheduler/scheduler_config.json. */
  scheduler?: Record<string, unknown>;
  /** Store the UNet's weights in unet/model.onnx_data. Default true. */
  externalData?: boolean;
  /** Also write vae_decoder_tiny/ (a taesd-style preview decoder). */
  tinyDecoder?: boolean;
  seed?: number;
}

/** Write a tiny diffusers-layout ONNX pipeline into `dir` (created). */
export async function writeTinyPipeline(dir: string, options: TinyPipelineOptions): Promise<void> {
  const seed = options.seed ?? 1;
  const { vocab, merges } = tinyClipVocab();
  const vocabSize = Object.keys(vocab).length;
  const sub = async (name: string) => {
    await mkdir(join(dir, name), { recursive: true });
    return join(dir, name);
  };
  const vaeConfig = { _class_name: 'AutoencoderKL', in_channels: 3, out_channels: 3, latent_channels: TINY.latentChannels, scaling_factor: TINY.scalingFactor, sample_size: 64 };

  await writeTokenizer(await sub('tokenizer'), vocab, merges);
  await writeFile(join(await sub('text_encoder'), 'model.onnx'), textEncoder(seed + 1, vocabSize));
  await writeJson(join(dir, 'text_encoder', 'config.json'), { architectures: ['CLIPTextModel'], hidden_size: TINY.hidden, max_position_embeddings: TINY.seq, vocab_size: vocabSize, bos_token_id: vocab['<|startoftext|>'], eos_token_id: vocab['<|endoftext|>'] });

  const unet = buildUnet({ ...options.unet, seed: seed + 2 });
  const unetDir = await sub('unet');
  if (options.externalData ?? true) {
    const { model, data } = unet.net.bytesExternal('unet', unet.inputs, unet.outputs, 'model.onnx_data');
    await writeFile(join(unetDir, 'model.onnx'), model);
    await writeFile(join(unetDir, 'model.onnx_data'), data);
  } else {
    await writeFile(join(unetDir, 'model.onnx'), unet.net.bytes('unet', unet.inputs, unet.outputs));
  }
  await writeJson(join(unetDir, 'config.json'), { _class_name: 'UNet2DConditionModel', in_channels: options.unet.inChannels, out_channels: TINY.latentChannels, cross_attention_dim: TINY.hidden, sample_size: 8 });

  await writeFile(join(await sub('vae_encoder'), 'model.onnx'), vaeEncoder(seed + 3));
  await writeJson(join(dir, 'vae_encoder', 'config.json'), vaeConfig);
  await writeFile(join(await sub('vae_decoder'), 'model.onnx'), vaeDecoder(seed + 4, 'vae_decoder'));
  await writeJson(join(dir, 'vae_decoder', 'config.json'), vaeConfig);
  if (options.tinyDecoder) {
    await writeFile(join(await sub('vae_decoder_tiny'), 'model.onnx'), vaeDecoder(seed + 5, 'vae_decoder_tiny'));
    await writeJson(join(dir, 'vae_decoder_tiny', 'config.json'), { _class_name: 'AutoencoderTiny', latent_channels: TINY.latentChannels, scaling_factor: 1.0 });
  }

  await writeJson(join(await sub('scheduler'), 'scheduler_config.json'), {
    _class_name: 'DDIMScheduler',
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    num_train_timesteps: 1000,
    prediction_type: 'epsilon',
    timestep_spacing: 'leading',
    steps_offset: 1,
    set_alpha_to_one: false,
    clip_sample: false,
    ...options.scheduler,
  });
  const pipelineClass = options.unet.inChannels === 9 ? 'StableDiffusionInpaintPipeline' : options.unet.inChannels === 8 ? 'StableDiffusionInstructPix2PixPipeline' : 'StableDiffusionPipeline';
  await writeJson(join(dir, 'model_index.json'), {
    _class_name: pipelineClass,
    _diffusers_version: '0.30.0',
    feature_extractor: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', 'DDIMScheduler'],
    text_encoder: ['diffusers', 'OnnxRuntimeModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'OnnxRuntimeModel'],
    vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
    vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
  });
}

/** Write a tiny ControlNet pack (controlnet/ + model_index.json) into `dir`. */
export async function writeTinyControlNet(dir: string, options: { timestep: 'int64' | 'float32'; seed?: number }): Promise<void> {
  await mkdir(join(dir, 'controlnet'), { recursive: true });
  await writeFile(join(dir, 'controlnet', 'model.onnx'), controlNet(options.seed ?? 7, options.timestep));
  await writeJson(join(dir, 'controlnet', 'config.json'), { _class_name: 'ControlNetModel', in_channels: TINY.latentChannels, conditioning_channels: 3, cross_attention_dim: TINY.hidden });
  await writeJson(join(dir, 'model_index.json'), { _class_name: 'ControlNetModel', _diffusers_version: '0.30.0', controlnet: ['diffusers', 'OnnxRuntimeModel'] });
}
