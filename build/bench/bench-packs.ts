/**
 * Which packs the bench measures: the bundled packs in native-models/ when a restore pack is
 * installed there, otherwise (only with --quick) the tiny test packs that tests/engine/fixtures
 * exports. The network configuration comes from the pack's model card, which the trainer
 * writes ("Network: base 48 channels, levels ×[1, 2, 2], 1 res block(s)/level").
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NetConfig } from '../../core/nn/config.ts';
import type { PackModel, PackRecord } from '../../electron/engine/packs/registry.ts';
import { NET_PRESETS } from '../../training/cli/train.ts';
import { tinyNet, makeTestPacks } from '../../tests/engine/fixtures/packs.ts';
import { DEFAULT_PACKS_DIR, openPacks } from '../eval/pack-rows.ts';
import type { PackSource } from '../eval/pack-rows.ts';

export interface BenchPacks {
  packs: PackSource;
  dir: string;
  testPacks: boolean;
  net: NetConfig;
}

/** The trainer's preset whose shape the model card names, or null. */
export function netFromModelCard(card: string): NetConfig | null {
  const m = /base (\d+) channels, levels ×\[([\d, ]+)\], (\d+) res block/.exec(card);
  if (!m) return null;
  const base = Number(m[1]);
  const mult = m[2]!.split(',').map((s) => Number(s.trim()));
  const res = Number(m[3]);
  const preset = Object.values(NET_PRESETS).find((p) => p.baseChannels === base && p.resBlocks === res && p.channelMult.join() === mult.join());
  return preset ?? null;
}

function hasRestorePack(records: readonly PackRecord[]): boolean {
  return records.some((r) => r.status === 'ok' && r.manifest?.task === 'restore');
}

export async function openBenchPacks(quick: boolean, tmpDir: string, threads: number, log: (s: string) => void, forceTestPacks = false): Promise<BenchPacks> {
  if (!forceTestPacks && existsSync(DEFAULT_PACKS_DIR)) {
    const packs = await openPacks(DEFAULT_PACKS_DIR, threads);
    const restore = packs.records.find((r) => r.status === 'ok' && r.manifest?.task === 'restore');
    if (restore) {
      const cardPath = path.join(restore.root, 'MODEL_CARD.md');
      const net = existsSync(cardPath) ? netFromModelCard(readFileSync(cardPath, 'utf8')) : null;
      if (!net) throw new Error(`cannot tell the network shape of pack "${restore.name}" from its MODEL_CARD.md`);
      log(`packs: bundled (${packs.records.filter((r) => r.status === 'ok').map((r) => r.name).join(', ')})`);
      return { packs, dir: DEFAULT_PACKS_DIR, testPacks: false, net };
    }
    await packs.close();
    if (!quick) throw new Error('no restore pack in native-models/: the full bench measures the bundled packs (use --quick for the tiny test packs)');
  }
  const dir = path.join(tmpDir, 'test-packs');
  await makeTestPacks(dir);
  const packs = await openPacks(dir, threads);
  if (!hasRestorePack(packs.records)) throw new Error('the test packs have no restore pack');
  log('packs: tiny test packs (randomly initialised; timings only, quality numbers mean nothing)');
  return { packs, dir, testPacks: true, net: tinyNet };
}

/** Load the first usable pack for a task (optionally a training method), or return why not. */
export async function loadTaskPack(packs: PackSource, task: string, method?: string): Promise<{ record: PackRecord; model: PackModel } | string> {
  const rec = packs.records.find((r) => r.status === 'ok' && r.manifest?.task === task && (method === undefined || r.manifest.method === method));
  if (!rec) return `no usable ${task}${method ? ` (${method})` : ''} pack installed`;
  return { record: rec, model: await packs.registry.load(rec.name) };
}

/** The distilled restore pack under test: PE-CoDi first, then full CoDi, then any other restore pack. */
export function restoreRecord(packs: PackSource): PackRecord | undefined {
  const ok = packs.records.filter((r) => r.status === 'ok' && r.manifest?.task === 'restore');
  return ok.find((r) => r.manifest?.method === 'pe-codi') ?? ok.find((r) => r.manifest?.method === 'codi') ?? ok[0];
}

/** Load {@link restoreRecord}. */
export async function loadRestorePack(packs: PackSource): Promise<{ record: PackRecord; model: PackModel }> {
  const rec = restoreRecord(packs);
  if (!rec) throw new Error('no usable restore pack installed');
  return { record: rec, model: await packs.registry.load(rec.name) };
}
