import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeTinyControlNet, writeTinyPipeline, TINY } from './diffusers-tiny.ts';

let tmp = '';
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('tiny diffusers fixtures', () => {
  it('write the diffusers ONNX layout, and ONNX Runtime loads the external-data UNet from its path', async () => {
    tmp = await mkdtemp(join(tmpdir(), 'codi-tiny-'));
    const dir = join(tmp, 'sd');
    await writeTinyPipeline(dir, { unet: { inChannels: 4, timestep: 'int64', residuals: true } });
    expect((await readdir(dir)).sort()).toEqual(['model_index.json', 'scheduler', 'text_encoder', 'tokenizer', 'unet', 'vae_decoder', 'vae_encoder']);
    expect((await readdir(join(dir, 'unet'))).sort()).toEqual(['config.json', 'model.onnx', 'model.onnx_data']);
    expect((await readdir(join(dir, 'tokenizer'))).sort()).toEqual(['merges.txt', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.json']);
    const unet = await ort.InferenceSession.create(join(dir, 'unet', 'model.onnx'));
    expect(unet.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'down_block_additional_residuals_0', 'down_block_additional_residuals_1', 'mid_block_additional_residual']);
    expect(unet.outputNames).toEqual(['out_sample']);
    const C = TINY.unetChannels;
    const f = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.1), dims);
    const out = await unet.run({
      sample: f([2, 4, 8, 8]),
      timestep: new ort.Tensor('int64', BigInt64Array.of(981n), [1]),
      encoder_hidden_states: f([2, 77, TINY.hidden]),
      down_block_additional_residuals_0: f([2, C, 8, 8]),
      down_block_additional_residuals_1: f([2, C, 4, 4]),
      mid_block_additional_residual: f([2, C, 4, 4]),
    });
    expect(out.out_sample!.dims).toEqual([2, 4, 8, 8]);
    await unet.release();
    const te = await ort.InferenceSession.create(join(dir, 'text_encoder', 'model.onnx'));
    const ids = new ort.Tensor('int32', new Int32Array(77).fill(5), [1, 77]);
    const h = await te.run({ input_ids: ids });
    expect(h.last_hidden_state!.dims).toEqual([1, 77, TINY.hidden]);
    expect(h.pooler_output!.dims).toEqual([1, TINY.hidden]);
    await te.release();
    await writeTinyControlNet(join(tmp, 'cn'), { timestep: 'float32' });
    const cn = await ort.InferenceSession.create(join(tmp, 'cn', 'controlnet', 'model.onnx'));
    expect(cn.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'conditioning_scale']);
    expect(cn.outputNames).toEqual(['down_block_res_samples_0', 'down_block_res_samples_1', 'mid_block_res_sample']);
    await cn.release();
  });
});
