import { describe, it, expect } from 'vitest';
import { describeMachine, quantile, summarise, timeIt } from './stats.ts';

describe('bench statistics', () => {
  it('takes nearest-rank quantiles of unsorted samples', () => {
    const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(quantile(xs, 0.5)).toBe(5);
    expect(quantile(xs, 0.9)).toBe(9);
    expect(quantile([3], 0.9)).toBe(3);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });

  it('summarises median, p90 and min', () => {
    const t = summarise([30, 10, 20, 50, 40], 2);
    expect(t).toMatchObject({ warmups: 2, runs: 5, medianMs: 30, p90Ms: 50, minMs: 10 });
  });

  it('runs warm-ups untimed before the timed runs', async () => {
    let calls = 0;
    const t = await timeIt(() => void calls++, { warmups: 2, runs: 5 });
    expect(calls).toBe(7);
    expect(t.samplesMs).toHaveLength(5);
  });

  it('describes the machine', () => {
    const m = describeMachine(2);
    expect(m.threads).toBe(2);
    expect(m.node).toBe(process.version);
    expect(m.memoryGiB).toBeGreaterThan(0);
  });
});
