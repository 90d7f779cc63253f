/**
 * The detail-ratio threshold above which the Restore ×4 tool says a photo looks clean
 * (core/image/detail-ratio.ts CLEAN_DETAIL_RATIO), chosen on VALIDATION inputs only: the damaged
 * inputs of a restore data set against its clean twin's (build/restore/make-twins.ts). The rule:
 * the threshold with the most inputs on their right side, clean at or above it; ties go to the
 * higher threshold, which calls fewer damaged photos clean.
 *
 *   npx tsx build/restore/choose-clean-threshold.ts --clean datasets/restore-x4-val256-clean --damaged datasets/restore-x4-val256
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLEAN_DETAIL_RATIO, detailRatio } from '../../core/image/detail-ratio.ts';
import { parseItems } from '../../training/data/dataset-reader.ts';
import { readRgb } from '../../training/data/image.ts';
import { planarToModel } from '../eval/convert.ts';

async function valRatios(dir: string, limit: number): Promise<number[]> {
  const items = parseItems(readFileSync(path.join(dir, 'items.jsonl'), 'utf8')).filter((it) => it.split === 'val').slice(0, limit);
  const out: number[] = [];
  for (const it of items) {
    if (!it.input) throw new Error(`${dir}: val item ${it.target} has no input`);
    out.push(detailRatio(planarToModel(await readRgb(path.join(dir, it.input)))));
  }
  return out;
}

/** Best threshold (clean ≥ t) by accuracy; returns it with the share of each kind on its right side. */
export function chooseThreshold(clean: readonly number[], damaged: readonly number[]): { threshold: number; accuracy: number; cleanRight: number; damagedRight: number } {
  const cuts = [...new Set([...clean, ...damaged])].sort((a, b) => a - b);
  let best = { threshold: Infinity, accuracy: -1, cleanRight: 0, damagedRight: 0 };
  for (const [i, v] of cuts.entries()) {
    // halfway to the value below, so a value seen on val is not exactly on the line
    const t = i === 0 ? v : (v + (cuts[i - 1] as number)) / 2;
    const cleanRight = clean.filter((x) => x >= t).length / clean.length;
    const damagedRight = damaged.filter((x) => x < t).length / damaged.length;
    const accuracy = (cleanRight * clean.length + damagedRight * damaged.length) / (clean.length + damaged.length);
    if (accuracy >= best.accuracy) best = { threshold: t, accuracy, cleanRight, damagedRight };
  }
  return best;
}

if (process.argv[1]?.endsWith('choose-clean-threshold.ts')) {
  const { values: v } = parseArgs({ options: { clean: { type: 'string' }, damaged: { type: 'string' }, limit: { type: 'string', default: '298' } } });
  if (!v.clean || !v.damaged) throw new Error('usage: choose-clean-threshold.ts --clean DIR --damaged DIR [--limit N]');
  const clean = await valRatios(v.clean, Number(v.limit));
  const damaged = await valRatios(v.damaged, Number(v.limit));
  const b = chooseThreshold(clean, damaged);
  const shipped = Math.abs(b.threshold - CLEAN_DETAIL_RATIO) < 5e-4 ? 'the shipped value' : `the app ships ${CLEAN_DETAIL_RATIO}: update core/image/detail-ratio.ts`;
  console.log(`threshold ${b.threshold.toFixed(3)} (${shipped}): ${(100 * b.accuracy).toFixed(1)} % right (clean called clean ${(100 * b.cleanRight).toFixed(1)} %, damaged called damaged ${(100 * b.damagedRight).toFixed(1)} %; ${clean.length} + ${damaged.length} val inputs)`);
}
