/**
 * Timestep grids of the samplers (descending DDPM indices). T = number of training steps.
 */

/**
 * CoDi's released sampler grid (docs/method.md §7.1): k = T // N, grid = (arange(0, N)·k)
 * reversed, ratio = ceil(N/steps), ts = grid[::ratio]. N = 50, 4 steps → [980, 720, 460, 200].
 * Throws when the grid cannot give `steps` points (e.g. N = 20, 8 steps, which the released
 * code reads out of range).
 */
export function codiTimesteps(distillSteps: number, steps: number, T = 1000): number[] {
  checkInt('distillSteps', distillSteps, 1, T);
  checkInt('steps', steps, 1, distillSteps);
  const k = Math.floor(T / distillSteps);
  const ratio = Math.ceil(distillSteps / steps);
  const ts: number[] = [];
  for (let j = 0; j < distillSteps; j += ratio) ts.push((distillSteps - 1 - j) * k);
  if (ts.length !== steps) {
    throw new RangeError(`a CoDi grid of N=${distillSteps} gives ${ts.length} points for ${steps} steps; choose another step count`);
  }
  return ts;
}

/**
 * LCM inference timesteps (diffusers LCMScheduler, §7.3): origin grid arange(1, N+1)·(T//N) − 1,
 * reversed, sampled at floor(linspace(0, N, steps, endpoint=False)). N = 50, 4 → [999, 759, 499, 259].
 */
export function lcmTimesteps(originalSteps: number, steps: number, T = 1000): number[] {
  checkInt('originalSteps', originalSteps, 1, T);
  checkInt('steps', steps, 1, originalSteps);
  const c = Math.floor(T / originalSteps);
  const ts: number[] = [];
  for (let j = 0; j < steps; j++) {
    const idx = Math.floor((j * originalSteps) / steps);
    ts.push((originalSteps - idx) * c - 1);
  }
  return ts;
}

export type DdimSpacing = 'trailing' | 'leading';

/**
 * DDIM spacing (diffusers, §9.1). 'leading': (arange(n)·(T//n))[::-1] + offset (SD uses offset 1:
 * 4 steps → 751, 501, 251, 1). 'trailing': round(arange(T, 0, −T/n)) − 1 (4 → 999, 749, 499, 249),
 * with numpy's round-half-to-even.
 */
export function ddimTimesteps(steps: number, spacing: DdimSpacing = 'trailing', T = 1000, stepsOffset = 0): number[] {
  checkInt('steps', steps, 1, T);
  const ts: number[] = [];
  if (spacing === 'leading') {
    const r = Math.floor(T / steps);
    for (let j = steps - 1; j >= 0; j--) ts.push(j * r + stepsOffset);
  } else {
    const r = T / steps;
    for (let j = 0; j < steps; j++) ts.push(roundHalfEven(T - j * r) - 1);
  }
  return ts;
}

/**
 * DPM-Solver 'time_uniform' grid (§9.2): continuous t = linspace(1, 1/T, steps + 1), model time
 * (t − 1/T)·T. Returns steps + 1 points from T − 1 down to 0, generally fractional.
 */
export function dpmTimeUniform(steps: number, T = 1000): number[] {
  checkInt('steps', steps, 1, T);
  const tEnd = 1 / T;
  const ts: number[] = [];
  for (let j = 0; j <= steps; j++) {
    const u = j === steps ? tEnd : 1 + (j * (tEnd - 1)) / steps;
    ts.push(j === steps ? 0 : (u - tEnd) * T);
  }
  return ts;
}

/** numpy.round: ties to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${name} must be an integer in [${lo}, ${hi}], got ${v}`);
}
