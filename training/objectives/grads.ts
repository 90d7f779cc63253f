/**
 * Run a prepared step's loss under tf.variableGrads and bring back the gradients plus the
 * loss terms as host numbers.
 */
import * as tf from '@tensorflow/tfjs';
import type { PreparedStep } from './types.ts';

export interface StepGradients {
  /** Gradients keyed by the ParamSet name (not the tf variable name). Caller disposes. */
  grads: Map<string, tf.Tensor>;
  total: number;
  terms: Record<string, number>;
}

export function computeGradients(step: PreparedStep, trainable: Map<string, tf.Variable>): StepGradients {
  const vars = [...trainable.values()];
  let kept: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const { total, terms } = step.loss();
    kept = Object.fromEntries(Object.entries(terms).map(([k, t]) => [k, tf.keep(t.clone())]));
    return total;
  }, vars);
  const total = value.dataSync()[0] ?? Number.NaN;
  value.dispose();
  const terms: Record<string, number> = {};
  for (const [k, t] of Object.entries(kept)) {
    terms[k] = t.dataSync()[0] ?? Number.NaN;
    t.dispose();
  }
  const byName = new Map<string, tf.Tensor>();
  for (const [name, v] of trainable) {
    // A variable the loss does not reach (e.g. a text projection with no text) gets a zero gradient,
    // so AdamW still applies weight decay uniformly.
    byName.set(name, grads[v.name] ?? tf.zerosLike(v));
  }
  return { grads: byName, total, terms };
}
