/**
 * Exponential moving average of the trainable set. The EMA is both the CoDi consistency target
 * θ⁻ and the exported model (docs/method.md §10 pitfall 10), so it is updated after EVERY step.
 */
import * as tf from '@tensorflow/tfjs';
import { cloneVariables } from './variables.ts';

/** Independent copies of `params` (same names), used to start the EMA at θ⁻ ← θ. */
export function cloneParams(params: Map<string, tf.Variable>): Map<string, tf.Variable> {
  return cloneVariables(params, false);
}

/** θ⁻ ← γ·θ⁻ + (1 − γ)·θ for every name in `ema`. */
export function updateEma(ema: Map<string, tf.Variable>, params: Map<string, tf.Variable>, decay: number): void {
  if (!(decay >= 0 && decay <= 1)) throw new Error(`EMA decay must lie in [0, 1], got ${decay}`);
  for (const [name, e] of ema) {
    const p = params.get(name);
    if (!p) throw new Error(`EMA: parameter "${name}" missing from the online set`);
    tf.tidy(() => e.assign(e.mul(decay).add(p.mul(1 - decay))));
  }
}
