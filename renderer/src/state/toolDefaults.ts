/**
 * What a new user gets without choosing anything: the tool selected at start, the instruction
 * an edit tool starts with, what each tool needs before it can run, and the steps hint. All of
 * it follows from what the packs measured (manifest metrics, core/packs/measured-steps.ts), not
 * from a rule of thumb.
 */
import { DEPTH_MAP_NEEDS } from '../../../core/image/depth-map.ts';
import type { PackInfo } from '../engine-client/index.ts';

/** How the tool list names each task. */
export const TASK_LABELS: Readonly<Record<string, string>> = {
  restore: 'Restore / upscale',
  inpaint: 'Inpaint (fill masked area)',
  edit: 'Edit by instruction',
  depth: 'Depth to image',
  custom: 'Personal style',
};

/** Tools that cannot run on an ordinary photo alone, and what they need first. */
export const NEEDS_INPUT: Readonly<Partial<Record<PackInfo['task'], string>>> = {
  inpaint: 'a painted mask over the area to fill',
  depth: DEPTH_MAP_NEEDS,
};

/** With no measurement to go by: tools that take a plain photo first, special inputs last. */
const FALLBACK_ORDER: readonly PackInfo['task'][] = ['restore', 'edit', 'custom', 'inpaint', 'depth'];

/**
 * Held-out PSNR gain of the pack at its default steps over the unchanged input (dB), or null.
 * Positive = its output is measurably closer to the target than the photo it was given.
 */
export function measuredGain(p: PackInfo): number | null {
  const m = p.measured;
  if (!m || m.inputPsnrDb === undefined) return null;
  const at = m.steps.find((s) => s.steps === p.steps.default);
  return at ? at.psnrDb - m.inputPsnrDb : null;
}

/**
 * The tool selected at start: among usable tools that run on a plain photo, the one with the
 * largest measured gain over its input (the bundled edit pack gains several dB over the unchanged
 * photo; the restore pack about a tenth of a dB over bicubic, and a pack below its input never
 * qualifies); without such a
 * measurement, the first by FALLBACK_ORDER. A tool that needs a special input never wins while
 * another one is usable: pressing Run on a photo with it selected gives noise or an error; the
 * depth tool is never the default at all.
 */
export function defaultTool(tools: readonly PackInfo[]): PackInfo | null {
  const usable = tools.filter((p) => p.status === 'ok' && p.task !== 'backbone');
  let best: PackInfo | null = null;
  let bestGain = 0;
  for (const p of usable) {
    const g = measuredGain(p);
    if (NEEDS_INPUT[p.task] === undefined && g !== null && g > bestGain) {
      best = p;
      bestGain = g;
    }
  }
  if (best) return best;
  const rank = (p: PackInfo): number => {
    const i = FALLBACK_ORDER.indexOf(p.task);
    return i < 0 ? FALLBACK_ORDER.length : i;
  };
  // never depth, even alone: the open picture is a photo far more often than a depth map
  const startable = (p: PackInfo): boolean => p.task !== 'backbone' && p.task !== 'depth';
  return [...usable.filter(startable)].sort((a, b) => rank(a) - rank(b))[0] ?? tools.find(startable) ?? null;
}

/**
 * Instructions an edit tool starts with, best first: a contrast boost is the usual one-click
 * improvement of a photo, and on the evaluation's held-out photos every wording of it passed
 * (luma std 0.199 → 0.235, the procedural edit 0.259). Only wordings the pack knows are used;
 * otherwise the field starts empty (its first suggestion, "make it dark", improves nothing).
 */
const PREFERRED_INSTRUCTIONS: readonly string[] = ['more contrast', 'increase the contrast', 'boost contrast'];

export function defaultInstruction(p: PackInfo): string | null {
  if (!p.takesText) return null;
  return PREFERRED_INSTRUCTIONS.find((s) => p.instructions.includes(s)) ?? null;
}

const stepsWord = (n: number): string => `${n} step${n === 1 ? '' : 's'}`;

/** The steps hint: what this pack measured per step count, or that it measured nothing. */
export function stepsHint(p: PackInfo): string {
  const d = p.steps.default;
  const m = p.measured?.steps ?? [];
  if (m.length === 0) return `Default for this tool: ${stepsWord(d)} (the pack's own default; it ships no step measurements).`;
  const list = m.map((s) => `${stepsWord(s.steps)} ${s.psnrDb.toFixed(1)} dB`).join(', ');
  const input = p.measured?.inputPsnrDb;
  const best = m.reduce((a, b) => (b.psnrDb > a.psnrDb ? b : a));
  const verdict = best.steps === d ? `Default ${d}, the best measured.` : `Default ${d}.`;
  return `Measured on validation crops, photos kept out of training (PSNR, higher is closer to the target): ${list}${input !== undefined ? `; the unchanged input ${input.toFixed(1)} dB` : ''}. ${verdict}`;
}
