/**
 * How many denoising steps a pack may run: a whole number from 1 to its manifest's
 * `sampler.maxSteps` (past it, a distilled pack leaves the grid it was trained on). One rule and
 * one message for every place that takes a step count: `codi run --steps`, the engine's runTool
 * and batch, and the editor's step control, which offers exactly the counts allowed here.
 */

export interface StepLimited {
  readonly name: string;
  /** The manifest's sampler.maxSteps. */
  readonly maxSteps: number;
}

/** Why `steps` cannot run on `pack`, or null when it can. */
export function stepsProblem(steps: number, pack: StepLimited): string | null {
  if (Number.isInteger(steps) && steps >= 1 && steps <= pack.maxSteps) return null;
  return `${pack.name} runs 1 to ${pack.maxSteps} steps (its manifest's limit), not ${steps}`;
}

/** The step counts a control offers for a pack: 1 … its limit. */
export function allowedSteps(maxSteps: number): number[] {
  return Array.from({ length: Math.max(1, Math.floor(maxSteps)) }, (_, i) => i + 1);
}

/** `steps` moved into 1 … `maxSteps` (a pack's default, or a restored setting, may lie outside it). */
export function clampSteps(steps: number, maxSteps: number): number {
  const max = Math.max(1, Math.floor(maxSteps));
  return Number.isFinite(steps) ? Math.min(max, Math.max(1, Math.round(steps))) : 1;
}
