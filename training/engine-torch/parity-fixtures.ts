/**
 * Shared pieces of the engine-parity tests (not a test file itself): random weights that make
 * every path of the network matter, and a gate that skips when no Python with torch is found.
 */
import type { NetConfig } from '../../core/nn/config.ts';
import { initParams } from '../../core/nn/params.ts';
import type { ParamRecord } from '../../core/nn/params.ts';
import { adapterParamSpecs, backboneParamSpecs } from '../../core/nn/trace.ts';
import type { AdapterOptions } from '../../core/nn/unet.ts';
import { Rng } from '../../core/rng.ts';
import { findTorchPython } from './python.ts';

/** The Python the parity tests run, or null (they say why and skip). */
export function parityPython(): string | null {
  const probe = findTorchPython();
  if (probe.ok) return probe.found.python;
  console.warn(`engine parity tests skipped: no Python with torch ≥ 1.13 (${probe.reason})`);
  return null;
}

/**
 * Seeded weights where nothing is zero or exactly one: zero-initialised layers (text FiLM and
 * head, zero convs) and μ would otherwise hide whole paths from a forward comparison.
 */
export function denseRandomWeights(cfg: NetConfig, opts: AdapterOptions | undefined, seed: number): { backbone: ParamRecord; adapter?: ParamRecord } {
  const rng = new Rng(seed);
  const perturb = (rec: ParamRecord): ParamRecord => {
    for (const [name, p] of Object.entries(rec)) {
      for (let i = 0; i < p.data.length; i++) {
        if (name === 'mu') p.data[i] = 0.2 + 0.6 * rng.uniform();
        else p.data[i] = p.data[i]! + 0.05 * rng.normal();
      }
    }
    return rec;
  };
  const backbone = perturb(initParams(backboneParamSpecs(cfg), seed));
  if (!opts) return { backbone };
  return { backbone, adapter: perturb(initParams(adapterParamSpecs(cfg, opts), seed + 1)) };
}
