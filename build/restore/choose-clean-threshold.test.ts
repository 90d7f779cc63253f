import { describe, expect, it } from 'vitest';
import { chooseThreshold } from './choose-clean-threshold.ts';

describe('the clean-photo threshold', () => {
  it('puts the line where most inputs fall on their side, clean at or above it; a tie goes to the higher line', () => {
    // 0.5 and 0.675 both put 6 of 8 right; 0.675 calls no damaged input clean
    const b = chooseThreshold([0.6, 0.7, 0.8, 0.35], [0.2, 0.3, 0.4, 0.65]);
    expect(b.threshold).toBeCloseTo(0.675, 6);
    expect(b.accuracy).toBe(6 / 8);
    expect(b.cleanRight).toBe(2 / 4);
    expect(b.damagedRight).toBe(1);
    expect(chooseThreshold([0.6, 0.7, 0.8, 0.35], [0.2, 0.3, 0.4, 0.45]).threshold).toBeCloseTo(0.525, 6);
  });

  it('separates classes that do not overlap completely', () => {
    const b = chooseThreshold([0.5, 0.6], [0.1, 0.2]);
    expect(b.accuracy).toBe(1);
    expect(b.threshold).toBeGreaterThan(0.2);
    expect(b.threshold).toBeLessThanOrEqual(0.5);
  });
});
