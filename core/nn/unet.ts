/**
 * The CoDi network, written once over NnBuilder<T> (see builder.ts).
 *
 * Backbone: UNet(z, t) → v. At the output of each encoder level l the activation is
 * replaced by the convex mix h'_l = (1 − μ_l)·h_l + μ_l·mix_l, which feeds both the next
 * level and the decoder skip (docs/method.md §3.1 reading (a)). μ = 0 gives the plain model.
 *
 * Adapter (the paper's conditional encoder h_η, ControlNet-style): a copy of the backbone's
 * conv_in, time MLP and encoder levels, run on conv_in(z) + condEmbed(cond) (a small conv
 * stack; see adapterNet for why its last conv is not zero-initialised) with an optional text
 * vector projected (zero-init) into the time embedding and, through a small MLP, into a FiLM
 * (per-channel scale and shift, zero-init) of the condition embedding and of every level's
 * output. A text adapter also has a direct output path (textHead) whose v-offset is added to
 * the backbone's output. It returns one feature map per level and the learnable μ [L],
 * initialised to 0. Its shared parameters carry the backbone's names, so copying them is a
 * name-wise copy.
 */
import { at } from '../at.ts';
import type { NnBuilder } from './builder.ts';
import { levelChannels, levelCount } from './config.ts';
import type { NetConfig } from './config.ts';

/** Adapter output that the backbone mixes in: one map per level and μ [L]. */
export interface LevelMix<T> {
  features: T[];
  mu: T;
}

/** What an adapter returns: the level mix and, for text adapters, an offset added to v. */
export interface AdapterResult<T> extends LevelMix<T> {
  delta?: T;
}

/** Condition inputs of an adapter; `textDim` = 0 means no text input. */
export interface AdapterOptions {
  condChannels: number;
  textDim: number;
}

function timeEmbedding<T>(b: NnBuilder<T>, cfg: NetConfig, t: T): T {
  const e = b.timestepEmbedding(t, cfg.timeDim);
  const h = b.silu(b.dense(e, 'time.fc1', { inF: cfg.timeDim, outF: cfg.embDim }));
  return b.dense(h, 'time.fc2', { inF: cfg.embDim, outF: cfg.embDim });
}

/** GN → SiLU → conv → + time → GN → SiLU → conv, plus a (1×1 when widths differ) skip. */
function resBlock<T>(b: NnBuilder<T>, cfg: NetConfig, name: string, x: T, embAct: T, inC: number, outC: number): T {
  let h = b.conv2d(b.silu(b.groupNorm(x, `${name}.norm1`, inC, cfg.groups, cfg.eps)), `${name}.conv1`, {
    inC,
    outC,
    kernel: 3,
    stride: 1,
  });
  h = b.addPerChannel(h, b.dense(embAct, `${name}.emb`, { inF: cfg.embDim, outF: outC }));
  h = b.conv2d(b.silu(b.groupNorm(h, `${name}.norm2`, outC, cfg.groups, cfg.eps)), `${name}.conv2`, {
    inC: outC,
    outC,
    kernel: 3,
    stride: 1,
  });
  const skip = inC === outC ? x : b.conv2d(x, `${name}.skip`, { inC, outC, kernel: 1, stride: 1 });
  return b.add(skip, h);
}

function attentionBlock<T>(b: NnBuilder<T>, cfg: NetConfig, name: string, x: T, c: number): T {
  const h = b.groupNorm(x, `${name}.norm`, c, cfg.groups, cfg.eps);
  const conv1 = (n: string, y: T) => b.conv2d(y, `${name}.${n}`, { inC: c, outC: c, kernel: 1, stride: 1 });
  const a = b.attention(conv1('q', h), conv1('k', h), conv1('v', h), c);
  return b.add(x, conv1('proj', a));
}

/** Encoder levels on h0 = conv_in output; returns each level's (mixed) output. */
function encoderLevels<T>(b: NnBuilder<T>, cfg: NetConfig, h0: T, embAct: T, mix?: LevelMix<T>): T[] {
  const ch = levelChannels(cfg);
  const levels: T[] = [];
  let h = h0;
  let inC = at(ch, 0);
  for (const [l, c] of ch.entries()) {
    for (let r = 0; r < cfg.resBlocks; r++) {
      h = resBlock(b, cfg, `enc.${l}.res.${r}`, h, embAct, inC, c);
      inC = c;
    }
    if (mix) {
      const feat = mix.features[l];
      if (feat === undefined) throw new Error(`mix feature for level ${l} is missing`);
      h = b.mixLevel(h, feat, mix.mu, l);
    }
    levels.push(h);
    if (l < ch.length - 1) {
      h =
        cfg.downsample === 'avgpool'
          ? b.avgPool2(h)
          : b.conv2d(h, `enc.${l}.down`, { inC: c, outC: c, kernel: 3, stride: 2 });
    }
  }
  return levels;
}

function convIn<T>(b: NnBuilder<T>, cfg: NetConfig, z: T): T {
  return b.conv2d(z, 'conv_in', { inC: cfg.latentChannels, outC: at(levelChannels(cfg), 0), kernel: 3, stride: 1 });
}

/** Backbone UNet: z [B, latentC, h, w], t [B] → v [B, latentC, h, w]. No `mix` = μ = 0. */
export function backboneNet<T>(b: NnBuilder<T>, cfg: NetConfig, z: T, t: T, mix?: LevelMix<T>): T {
  const ch = levelChannels(cfg);
  const L = ch.length;
  const embAct = b.silu(timeEmbedding(b, cfg, t));
  const skips = encoderLevels(b, cfg, convIn(b, cfg, z), embAct, mix);

  const cLow = at(ch, L - 1);
  let h = resBlock(b, cfg, 'mid.res.0', at(skips, L - 1), embAct, cLow, cLow);
  if (cfg.attention) {
    h = attentionBlock(b, cfg, 'mid.attn', h, cLow);
    h = resBlock(b, cfg, 'mid.res.1', h, embAct, cLow, cLow);
  }

  let inC = cLow;
  for (const [l, cl] of [...ch.entries()].reverse()) {
    h = b.concatChannels([h, at(skips, l)]);
    let c = inC + cl;
    for (let r = 0; r < cfg.resBlocks; r++) {
      h = resBlock(b, cfg, `dec.${l}.res.${r}`, h, embAct, c, cl);
      c = cl;
    }
    inC = cl;
    if (l > 0) {
      h = b.conv2d(b.upsampleNearest2(h), `dec.${l}.up`, { inC: cl, outC: cl, kernel: 3, stride: 1 });
    }
  }
  const c0 = at(ch, 0);
  h = b.silu(b.groupNorm(h, 'out.norm', c0, cfg.groups, cfg.eps));
  return b.conv2d(h, 'conv_out', { inC: c0, outC: cfg.latentChannels, kernel: 3, stride: 1 });
}

/**
 * Text adapters' direct output path: a per-pixel linear map of the condition (the source photo)
 * whose channels are gated by the instruction and by t, added to v: delta = W_out·(g ⊙ W_in·c) + β.
 * Why: most instructions are a colour matrix applied to every pixel (black and white projects
 * onto luminance, negative is −x, warmer scales red and blue). Through the frozen backbone,
 * whose decoder ends in a GroupNorm, the model could only approximate these (black and white
 * kept 88 % of the chroma). 3·Cc channels give each of the 16 sub-pixels of a latent position
 * room for a full 3×3 colour matrix. The t gate lets the offset follow σ_t (v ≈ −σ_t·x̂ + …).
 * W_out and β start at zero, the gates at one: a new head adds nothing and still gets a gradient.
 */
function textHead<T>(b: NnBuilder<T>, cfg: NetConfig, opts: AdapterOptions, cond: T, hidden: T, embAct: T): T {
  const k = 3 * opts.condChannels;
  let h = b.conv2d(cond, 'text_head.in', { inC: opts.condChannels, outC: k, kernel: 1, stride: 1 });
  const gateText = b.dense(hidden, 'text_head.gate', { inF: cfg.embDim, outF: k, zeroInit: true });
  h = b.add(h, b.mulPerChannel(h, gateText));
  const gateTime = b.dense(embAct, 'text_head.time', { inF: cfg.embDim, outF: k, zeroInit: true });
  h = b.add(h, b.mulPerChannel(h, gateTime));
  const out = b.conv2d(h, 'text_head.out', { inC: k, outC: cfg.latentChannels, kernel: 1, stride: 1, zeroInit: true });
  return b.addPerChannel(out, b.dense(hidden, 'text_head.shift', { inF: cfg.embDim, outF: cfg.latentChannels, zeroInit: true }));
}

/** Adapter h_η: (z, t, cond [B, Cc, h, w], text [B, D]?) → per-level features, μ [L] and (text) a v-offset. */
export function adapterNet<T>(
  b: NnBuilder<T>,
  cfg: NetConfig,
  opts: AdapterOptions,
  z: T,
  t: T,
  cond: T,
  text?: T,
): AdapterResult<T> {
  let emb = timeEmbedding(b, cfg, t);
  let film: ((x: T, name: string, channels: number) => T) | undefined;
  let hidden: T | undefined;
  if (opts.textDim > 0) {
    if (text === undefined) throw new Error(`adapter expects a text embedding of width ${opts.textDim}`);
    emb = b.add(emb, b.dense(text, 'text_proj', { inF: opts.textDim, outF: cfg.embDim, zeroInit: true }));
    // Why FiLM as well: an instruction edit is mostly a per-pixel function of the photo scaled by
    // the instruction (darker = −a·x, negative = −2x, contrast = a·(x − mean)), a product of text
    // and image. The additive time-embedding path alone cannot form that product without many
    // units; it learned one change for every instruction. x·(1 + γ(text)) + β(text), zero-init,
    // so a new FiLM starts as the identity.
    const textHidden = b.silu(b.dense(text, 'text_film.hidden', { inF: opts.textDim, outF: cfg.embDim }));
    hidden = textHidden;
    film = (x, name, channels) => {
      const gamma = b.dense(textHidden, `text_film.${name}.scale`, { inF: cfg.embDim, outF: channels, zeroInit: true });
      const beta = b.dense(textHidden, `text_film.${name}.shift`, { inF: cfg.embDim, outF: channels, zeroInit: true });
      return b.addPerChannel(b.add(x, b.mulPerChannel(x, gamma)), beta);
    };
  }
  const embAct = b.silu(emb);
  const hid = cfg.condHidden;
  let c = b.silu(b.conv2d(cond, 'cond.0', { inC: opts.condChannels, outC: hid, kernel: 3, stride: 1 }));
  c = b.silu(b.conv2d(c, 'cond.1', { inC: hid, outC: hid, kernel: 3, stride: 1 }));
  // Not zero-initialised, unlike ControlNet's: μ = 0 already makes the adapted model equal the
  // backbone, and with a zero conv too the adapter would be an exact copy (feat_l = h_l), so
  // ∂L/∂μ = ⟨∂L/∂h', feat − h⟩ = 0 and every adapter gradient carries a factor μ = 0: training
  // could never start. A normal init makes feat_l ≠ h_l, so μ gets a gradient at step 0.
  const ch = levelChannels(cfg);
  c = b.conv2d(c, 'cond.out', { inC: hid, outC: at(ch, 0), kernel: 3, stride: 1 });
  if (film) c = film(c, 'cond', at(ch, 0));
  let features = encoderLevels(b, cfg, b.add(convIn(b, cfg, z), c), embAct);
  if (film) {
    const apply = film;
    features = features.map((f, l) => apply(f, `level${l}`, at(ch, l)));
  }
  const mu = b.param('mu', [levelCount(cfg)], { kind: 'zeros' });
  if (hidden === undefined) return { features, mu };
  return { features, mu, delta: textHead(b, cfg, opts, cond, hidden, embAct) };
}

/**
 * Full CoDi model (backbone + adapter in one graph). The two builders resolve parameters
 * in the backbone's and the adapter's own parameter sets.
 */
export function denoiserNet<T>(
  backbone: NnBuilder<T>,
  adapter: NnBuilder<T>,
  cfg: NetConfig,
  opts: AdapterOptions,
  z: T,
  t: T,
  cond: T,
  text?: T,
): T {
  const mix = adapterNet(adapter, cfg, opts, z, t, cond, text);
  const v = backboneNet(backbone, cfg, z, t, mix);
  return mix.delta === undefined ? v : backbone.add(v, mix.delta);
}
