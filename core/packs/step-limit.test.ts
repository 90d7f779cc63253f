import { describe, expect, it } from 'vitest';
import { allowedSteps, clampSteps, stepsProblem } from './step-limit.ts';

describe('step limit', () => {
  it("allows 1 to the manifest's maxSteps, and says so in one message otherwise", () => {
    const pack = { name: 'codi-inpaint', maxSteps: 8 };
    expect(stepsProblem(1, pack)).toBeNull();
    expect(stepsProblem(8, pack)).toBeNull();
    for (const bad of [0, 9, 99, 2.5]) expect(stepsProblem(bad, pack)).toBe(`codi-inpaint runs 1 to 8 steps (its manifest's limit), not ${bad}`);
  });

  it('a control offers exactly the allowed counts', () => {
    expect(allowedSteps(8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(allowedSteps(1)).toEqual([1]);
    const pack = { name: 'p', maxSteps: 8 };
    expect(allowedSteps(8).every((n) => stepsProblem(n, pack) === null)).toBe(true);
  });

  it('clamps a default or restored count into what the rule allows', () => {
    const pack = { name: 'p', maxSteps: 8 };
    for (const [asked, got] of [[4, 4], [12, 8], [0, 1], [-3, 1], [2.6, 3], [Number.NaN, 1]] as const) {
      expect(clampSteps(asked, 8)).toBe(got);
      expect(stepsProblem(clampSteps(asked, 8), pack)).toBeNull();
    }
    expect(clampSteps(4, 0)).toBe(1);
  });
});
