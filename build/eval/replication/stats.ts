/**
 * Mean and 95 % confidence interval (Student t) of a small sample, and paired differences. The
 * replication's intervals are over seeds (each seed: its own teacher, students and sampling noise);
 * with one seed there is no interval, and the report falls back to the crop-level paired interval,
 * which captures only the photo-to-photo spread.
 */

/** Two-sided 97.5 % quantiles of Student's t for df = 1..30 (beyond: the normal 1.96). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function t975(df: number): number {
  if (df < 1) return Number.NaN;
  return df <= T975.length ? (T975[df - 1] as number) : 1.96;
}

export interface Interval {
  mean: number;
  /** half-width of the 95 % interval; null with fewer than two values */
  half: number | null;
  n: number;
}

export function meanInterval(values: readonly number[]): Interval {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, half: null, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, half: null, n };
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, half: t975(n - 1) * Math.sqrt(variance / n), n };
}

/** Paired differences a_i − b_i and their interval. */
export function pairedDifference(a: readonly number[], b: readonly number[]): Interval {
  if (a.length !== b.length) throw new Error(`paired difference of ${a.length} and ${b.length} values`);
  return meanInterval(a.map((x, i) => x - (b[i] as number)));
}

/** Whether two intervals are disjoint (false when either has no interval). */
export function disjoint(a: Interval, b: Interval): boolean {
  if (a.half === null || b.half === null) return false;
  return a.mean + a.half < b.mean - b.half || b.mean + b.half < a.mean - a.half;
}

export function fmtInterval(iv: Interval, digits = 2): string {
  if (!Number.isFinite(iv.mean)) return '–';
  return iv.half === null ? iv.mean.toFixed(digits) : `${iv.mean.toFixed(digits)} ± ${iv.half.toFixed(digits)}`;
}
