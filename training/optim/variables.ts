/** Small helpers for named sets of tf.Variables (ParamSet-shaped maps). */
import * as tf from '@tensorflow/tfjs';

/** A fresh, non-trainable variable holding a copy of `value` (no tensor left behind). */
export function variableFrom(value: tf.Tensor, trainable = false): tf.Variable {
  return tf.variable(value, trainable);
}

/** Independent variable copies of every tensor in `src`. */
export function cloneVariables(src: Map<string, tf.Tensor>, trainable = false): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const [name, x] of src) out.set(name, variableFrom(x, trainable));
  return out;
}

/** Copy values of `src` into the same-named variables of `dst`; shapes must match. */
export function assignAll(dst: Map<string, tf.Variable>, src: Map<string, tf.Tensor>): void {
  for (const [name, v] of dst) {
    const x = src.get(name);
    if (!x) throw new Error(`missing tensor "${name}"`);
    if (!tf.util.arraysEqual(x.shape, v.shape)) throw new Error(`shape mismatch for "${name}": ${x.shape} vs ${v.shape}`);
    v.assign(x);
  }
}

/** True when every element of every tensor is finite (one host read per tensor). */
export function allFinite(tensors: Iterable<tf.Tensor>): boolean {
  for (const x of tensors) {
    const bad = tf.tidy(() => tf.logicalNot(tf.isFinite(x)).any());
    const flag = bad.dataSync()[0];
    bad.dispose();
    if (flag) return false;
  }
  return true;
}

export function disposeAll(m: Map<string, tf.Tensor>): void {
  for (const x of m.values()) x.dispose();
  m.clear();
}
