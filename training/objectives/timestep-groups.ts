/**
 * Batch-wise evaluation of core's scalar-coefficient maths (ddimUpdate, conversions) when the
 * timestep differs per sample: the batch is cut into runs of equal timestep, each run uses
 * scalar α/σ, and the results are concatenated back in order. With a shared t (the CoDi
 * default) this is a single call with no slicing.
 */
import * as tf from '@tensorflow/tfjs';

/** Contiguous runs [start, end) of equal timestep pairs. */
export function timestepRuns(ts: readonly number[], ss?: readonly number[]): Array<{ start: number; end: number }> {
  const runs: Array<{ start: number; end: number }> = [];
  let start = 0;
  for (let i = 1; i <= ts.length; i++) {
    const boundary = i === ts.length || ts[i] !== ts[start] || (ss !== undefined && ss[i] !== ss[start]);
    if (boundary) {
      runs.push({ start, end: i });
      start = i;
    }
  }
  return runs;
}

/**
 * Apply `f(slices, runStartIndex)` to each run of equal (t, s) and concatenate along the batch.
 * Differentiable: slice and concat carry gradients.
 */
export function mapTimestepRuns(
  ts: readonly number[],
  ss: readonly number[] | undefined,
  inputs: readonly tf.Tensor[],
  f: (slices: tf.Tensor[], i: number) => tf.Tensor,
): tf.Tensor {
  const runs = timestepRuns(ts, ss);
  if (runs.length === 1) return f([...inputs], 0);
  return tf.tidy(() => {
    const parts = runs.map(({ start, end }) =>
      f(
        inputs.map((x) => tf.slice(x, start, end - start)),
        start,
      ),
    );
    return tf.concat(parts, 0);
  });
}
