/**
 * Checked element access for the places where an index is a program invariant rather than a
 * loop's own bound: a wrong index then fails at once with the index and length instead of
 * flowing on as `undefined` (NaN in arithmetic).
 */

/** `arr[i]`, or a RangeError when `i` is not an index of `arr`. */
export function at<T>(arr: ArrayLike<T>, i: number): T {
  if (!Number.isInteger(i) || i < 0 || i >= arr.length) throw new RangeError(`index ${i} outside [0, ${arr.length})`);
  return arr[i] as T;
}
