/**
 * Messages between the personal-training worker process and whoever forked it (the broker).
 * Plain data only (the IPC channel uses structured clone; pixels travel as Uint8Array).
 */
import type { PairsSource, AlignMode } from './pairs.ts';
import type { PreflightResult } from './preflight-task.ts';
import type { PresetId } from './presets.ts';

/** What to train; written to the run folder as job.json so a resume needs only the folder. */
export interface PersonalJob {
  runDir: string;
  source: PairsSource;
  align: AlignMode;
  preset: PresetId;
  /** The backbone pack folder (bundled: native-models/codi-backbone). */
  backbonePack: string;
  /** Where the finished adapter pack is written (its own sub-folder). */
  userPacksDir: string;
  /** Pack name (lower-case slug) and the tool title the user sees. */
  name: string;
  title: string;
  seed: number;
  backend?: 'auto' | 'wasm' | 'cpu';
  /** Override of the preset's step count (tests). */
  steps?: number;
}

/** One point of the loss chart (kept in the run folder as history.jsonl). */
export interface LossPoint {
  step: number;
  losses: Record<string, number>;
  samplesPerSec: number;
}

/** Preview triple of one held-out crop, each a small PNG data URL. */
export interface PreviewItem {
  before: string;
  output: string;
  target: string;
}

export type PersonalPhase = 'preparing' | 'training' | 'exporting' | 'done' | 'paused' | 'cancelled' | 'failed';

export type WorkerMessage =
  | { type: 'phase'; phase: PersonalPhase; detail?: string }
  | { type: 'backend'; name: string; why: string }
  | { type: 'history'; points: LossPoint[]; totalSteps: number; resumedFrom: number }
  | { type: 'progress'; step: number; totalSteps: number; losses: Record<string, number>; samplesPerSec: number; etaSec: number }
  | { type: 'preview'; step: number; items: PreviewItem[] }
  | { type: 'done'; packDir: string; packName: string; psnr: number; psnrInput: number; steps: number; wallSeconds: number }
  | { type: 'error'; message: string }
  | { type: 'preflight'; result: PreflightResult };

export type ParentMessage = { type: 'pause' } | { type: 'cancel' };
