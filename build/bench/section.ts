/**
 * What every bench section receives and returns: one JSON-able result with its table rows and
 * the goal, stated as met, missed (with the measured gap) or not measurable here.
 */
import type { NetConfig } from '../../core/nn/config.ts';
import type { PackSource } from '../eval/pack-rows.ts';

/** The goal of a section and how the measurement compares with it. */
export interface GoalStatus {
  text: string;
  /** true met, false missed, null could not be measured in this run */
  met: boolean | null;
  /** measured value and gap, e.g. "41 % of peak, 39 points short" */
  measured: string;
}

export interface SectionResult {
  id: SectionId;
  title: string;
  goal: GoalStatus | null;
  /** Table rows: the same keys in every row of a section. */
  rows: Record<string, string | number | boolean | null>[];
  notes: string[];
  seconds: number;
}

export interface BenchContext {
  quick: boolean;
  /** intra-op threads of the main ORT measurements (machine's cores) */
  threads: number;
  seed: number;
  /** timed runs per timing (≥ 5) */
  runs: number;
  /** the packs under test (bundled packs, or the tiny test packs in --quick without them) */
  packs: PackSource;
  packsDir: string;
  /** true when the packs are the tiny randomly initialised test packs */
  testPacks: boolean;
  /** network configuration of the packs' graphs (for FLOP counts and the TF.js twin) */
  net: NetConfig;
  tmpDir: string;
  log(line: string): void;
}

export const SECTION_IDS = ['ceiling', 'steps', 'engines', 'peers', 'large', 'inpaint', 'training', 'stability'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

export type Section = (ctx: BenchContext) => Promise<Omit<SectionResult, 'id' | 'seconds'>>;
