/**
 * Tiny CoDi SD exports for the engine tests: a tiny diffusers ONNX pipeline
 * (tests/fixtures-gen/diffusers-tiny.ts) whose UNet is replaced, by
 * tests/fixtures-gen/codi_sd_tiny.py under a Python with torch, with a backbone graph that takes
 * the adapter's features and μ, plus codi_adapter/ (graph and codi_adapter.json) — exactly the
 * IO names of the export contract. Python lives here in tests/ only; the engine never runs it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTorchPython } from '../../training/engine-torch/python.ts';
import { writeTinyPipeline } from '../fixtures-gen/diffusers-tiny.ts';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures-gen', 'codi_sd_tiny.py');

/** The Python with torch that builds the fixtures, or why there is none (the tests then skip). */
export const torchPython: { python: string | null; reason: string } = (() => {
  const probe = findTorchPython();
  return probe.ok ? { python: probe.found.python, reason: '' } : { python: null, reason: `no Python with torch ≥ 1.13 (${probe.reason})` };
})();

export interface CodiExportOptions {
  task: 'inpaint' | 'restore' | 'edit';
  prediction?: 'epsilon' | 'v_prediction';
  /** Seeds the torch graphs: exports with one seed share the backbone UNet byte for byte. */
  seed?: number;
}

/** Write a tiny CoDi SD export into `dir`. */
export async function writeTinyCodiExport(dir: string, o: CodiExportOptions): Promise<void> {
  if (!torchPython.python) throw new Error(torchPython.reason);
  const prediction = o.prediction ?? 'epsilon';
  await writeTinyPipeline(dir, { unet: { inChannels: 4, timestep: 'float32', residuals: false }, scheduler: { prediction_type: prediction } });
  const r = spawnSync(torchPython.python, [SCRIPT, dir, '--task', o.task, '--prediction', prediction, '--seed', String(o.seed ?? 0)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`codi_sd_tiny.py failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
}
