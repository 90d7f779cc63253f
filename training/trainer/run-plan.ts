/**
 * What a training run starts from, as plain data: initial weights, which parameters train (with
 * their learning-rate multipliers), the frozen copies the objective reads, and the items it
 * trains on. Both engines (the TF.js Trainer and the PyTorch driver) start from this one plan,
 * so they begin from the same weights and refuse the same bad inputs with the same messages.
 */
import { validateNetConfig } from '../../core/nn/config.ts';
import { initParams } from '../../core/nn/params.ts';
import type { ParamRecord } from '../../core/nn/params.ts';
import { adapterParamSpecs, backboneParamSpecs } from '../../core/nn/trace.ts';
import { subtractBase } from '../../core/residual.ts';
import { completeAdapterRecord } from '../model/network.ts';
import type { LatentItem } from './batch-sampler.ts';
import type { InitialWeights, TrainConfig, TrainData } from './config.ts';

export interface RunPlan {
  backbone: ParamRecord;
  adapter?: ParamRecord;
  /** Names of the trained parameters, 'backbone/…' then 'adapter/…' (PE-CoDi: the adapter only). */
  trainable: string[];
  /** Per-parameter learning-rate multipliers (missing names: 1). */
  lrScale: Map<string, number>;
  /** Frozen copies of the initial weights the objective reads ('teacher/backbone', 'pretrained/backbone', …). */
  frozen: Map<string, ParamRecord>;
  /** The training items (residual targets already subtracted). */
  items: readonly LatentItem[];
}

function copyRecord(rec: ParamRecord): ParamRecord {
  const out: ParamRecord = {};
  for (const [k, p] of Object.entries(rec)) out[k] = { shape: [...p.shape], data: new Float32Array(p.data) };
  return out;
}

/**
 * A fresh adapter: parameters it shares with the backbone (conv_in, time MLP, encoder levels)
 * are copies of the backbone's, the rest seeded; μ starts at `muInit`.
 */
export function freshAdapterRecord(config: TrainConfig, backbone: ParamRecord, condChannels: number, textDim: number): ParamRecord {
  const rec = initParams(adapterParamSpecs(config.net, { condChannels, textDim }), config.seed + 1);
  for (const [name, p] of Object.entries(rec)) {
    const src = backbone[name];
    if (src) rec[name] = { shape: [...src.shape], data: new Float32Array(src.data) };
    else if (name === 'mu') p.data.fill(config.muInit);
  }
  return rec;
}

export function planRun(config: TrainConfig, data: TrainData, init: InitialWeights): RunPlan {
  validateNetConfig(config.net);
  const { method, net, seed } = config;
  const geo = data.geometry;
  if (geo.channels !== net.latentChannels) throw new Error(`data latents have ${geo.channels} channels, the network ${net.latentChannels}`);
  if (method !== 'pretrain' && !init.backbone) throw new Error(`method '${method}' needs a pretrained backbone`);
  if (method === 'cm' && !init.adapter) throw new Error("method 'cm' needs a conditional teacher (backbone + adapter)");
  const backbone = init.backbone ? copyRecord(init.backbone) : initParams(backboneParamSpecs(net), seed);
  let adapter: ParamRecord | undefined;
  if (method !== 'pretrain') {
    if (geo.condChannels <= 0) throw new Error(`method '${method}' needs conditional data`);
    const opts = { condChannels: geo.condChannels, textDim: geo.textDim };
    adapter = init.adapter ? copyRecord(completeAdapterRecord(net, init.adapter, opts, seed + 1)) : freshAdapterRecord(config, backbone, geo.condChannels, geo.textDim);
  }
  const trainsBackbone = method !== 'pe-codi';
  const trainable = [...(trainsBackbone ? Object.keys(backbone).map((k) => `backbone/${k}`) : []), ...(adapter ? Object.keys(adapter).map((k) => `adapter/${k}`) : [])];
  const lrScale = new Map<string, number>(
    adapter
      ? [
          ['adapter/mu', config.muLrScale],
          ['adapter/text_proj.w', config.textLrScale],
          ['adapter/text_proj.b', config.textLrScale],
        ]
      : [],
  );
  const frozen = new Map<string, ParamRecord>();
  if (method === 'cm') {
    frozen.set('teacher/backbone', copyRecord(backbone));
    frozen.set('teacher/adapter', copyRecord(adapter!));
  }
  if ((method === 'codi' || method === 'pe-codi') && config.codi.odeModel === 'pretrained' && trainsBackbone) {
    frozen.set('pretrained/backbone', copyRecord(backbone));
  }
  if (config.residual === 'condition' && geo.condChannels < geo.channels) throw new Error('residual targets need a condition that carries an image (restore, edit, custom, inpaint)');
  const items = config.residual === 'condition' ? data.items.map((it) => ({ ...it, x: subtractBase(it.x, it.cond!, 1, config.residualScale) })) : data.items;
  return { backbone, ...(adapter ? { adapter } : {}), trainable, lrScale, frozen, items };
}
