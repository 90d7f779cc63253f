/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter) and global-norm clipping, in fp32.
 * tf.train.adam has neither decoupled decay nor clipping, and hides its moments; this one keeps
 * the first/second moments as named variables so checkpoints can save and restore them exactly.
 */
import * as tf from '@tensorflow/tfjs';

/** Hyper-parameters; defaults follow the released CoDi code (docs/method.md §4.2). */
export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled: p ← p·(1 − lr·wd) before the Adam step. */
  weightDecay: number;
  /** Global-norm clip threshold; null disables clipping. */
  clipNorm: number | null;
}

export const DEFAULT_ADAMW: AdamWConfig = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, clipNorm: 1.0 };

/** Serialisable optimizer state: step count and the two moment maps (same keys as the params). */
export interface AdamWState {
  step: number;
  m: Map<string, tf.Tensor>;
  v: Map<string, tf.Tensor>;
}

/** What one update did: the global gradient norm before clipping and the scale applied. */
export interface StepReport {
  gradNorm: number;
  clipScale: number;
  /** False when the gradient norm was NaN/Inf: nothing was changed (the NaN guard's hook). */
  applied: boolean;
}

/** Global L2 norm over all gradients as a scalar tensor (caller disposes). */
export function globalNorm(grads: Iterable<tf.Tensor>): tf.Scalar {
  return tf.tidy(() => {
    let acc: tf.Scalar = tf.scalar(0);
    for (const g of grads) acc = acc.add<tf.Scalar>(g.square().sum());
    return acc.sqrt<tf.Scalar>();
  });
}

/** optax.clip_by_global_norm semantics: scale = 1 when ‖g‖ ≤ max, else max/‖g‖. */
export function clipScaleFor(norm: number, maxNorm: number | null): number {
  if (maxNorm === null || !(norm > maxNorm)) return 1;
  return maxNorm / norm;
}

export class AdamW {
  readonly config: AdamWConfig;
  private readonly params: Map<string, tf.Variable>;
  private readonly lrScale: ReadonlyMap<string, number>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  /** `lrScale`: per-parameter learning-rate multipliers (missing names: 1). */
  constructor(params: Map<string, tf.Variable>, config: Partial<AdamWConfig> = {}, lrScale: ReadonlyMap<string, number> = new Map()) {
    this.config = { ...DEFAULT_ADAMW, ...config };
    this.params = params;
    this.lrScale = lrScale;
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zeros(p.shape), false));
      this.v.set(name, tf.variable(tf.zeros(p.shape), false));
    }
  }

  get step(): number {
    return this.t;
  }

  /**
   * Clip, then update every parameter in place. A non-finite global norm (any NaN/Inf in any
   * gradient) leaves parameters, moments and the step count untouched and reports applied: false.
   */
  apply(grads: Map<string, tf.Tensor> | Record<string, tf.Tensor>, lr = this.config.lr): StepReport {
    const gmap = grads instanceof Map ? grads : new Map(Object.entries(grads));
    for (const name of this.params.keys()) {
      if (!gmap.has(name)) throw new Error(`AdamW: no gradient for parameter "${name}"`);
    }
    const normT = globalNorm(gmap.values());
    const gradNorm = normT.dataSync()[0] ?? Number.NaN;
    normT.dispose();
    if (!Number.isFinite(gradNorm)) return { gradNorm, clipScale: Number.NaN, applied: false };
    const clipScale = clipScaleFor(gradNorm, this.config.clipNorm);
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.config;
    // Bias corrections in float64 on the host; folded into one step size as in the Adam paper.
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    for (const [name, p] of this.params) {
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const g0 = gmap.get(name)!;
      const plr = lr * (this.lrScale.get(name) ?? 1);
      tf.tidy(() => {
        const g = clipScale === 1 ? g0 : g0.mul(clipScale);
        const mNew = m.mul(beta1).add(g.mul(1 - beta1));
        const vNew = v.mul(beta2).add(g.square().mul(1 - beta2));
        m.assign(mNew);
        v.assign(vNew);
        const update = mNew.div(bc1).div(vNew.div(bc2).sqrt().add(eps));
        const decayed = weightDecay === 0 ? p : p.mul(1 - plr * weightDecay);
        p.assign(decayed.sub(update.mul(plr)));
      });
    }
    return { gradNorm, clipScale, applied: true };
  }

  /** Copies of the moments (caller disposes) for a checkpoint. */
  getState(): AdamWState {
    return {
      step: this.t,
      m: new Map([...this.m].map(([k, x]) => [k, x.clone()])),
      v: new Map([...this.v].map(([k, x]) => [k, x.clone()])),
    };
  }

  /** Restore moments and step from a checkpoint; shapes must match the parameters. */
  setState(state: { step: number; m: Map<string, tf.Tensor>; v: Map<string, tf.Tensor> }): void {
    for (const [name, p] of this.params) {
      const m = state.m.get(name);
      const v = state.v.get(name);
      if (!m || !v) throw new Error(`AdamW state lacks moments for "${name}"`);
      if (!tf.util.arraysEqual(m.shape, p.shape) || !tf.util.arraysEqual(v.shape, p.shape)) {
        throw new Error(`AdamW state shape mismatch for "${name}"`);
      }
      this.m.get(name)!.assign(m);
      this.v.get(name)!.assign(v);
    }
    this.t = state.step;
  }

  dispose(): void {
    for (const x of this.m.values()) x.dispose();
    for (const x of this.v.values()) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}
