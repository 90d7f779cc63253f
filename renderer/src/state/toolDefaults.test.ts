import { describe, expect, it } from 'vitest';
import type { PackInfo } from '../engine-client/index.ts';
import { manifestSchema } from '../../../core/packs/manifest.ts';
import { measuredSteps } from '../../../core/packs/measured-steps.ts';
import backboneManifest from '../../../native-models/codi-backbone/manifest.json';
import depthManifest from '../../../native-models/codi-depth/manifest.json';
import editManifest from '../../../native-models/codi-edit/manifest.json';
import inpaintManifest from '../../../native-models/codi-inpaint/manifest.json';
import restoreManifest from '../../../native-models/codi-restore-x4/manifest.json';
import restoreDegradedManifest from '../../../native-models/codi-restore-x4-degraded/manifest.json';
import { defaultInstruction, defaultTool, measuredGain, NEEDS_INPUT, stepsHint } from './toolDefaults.ts';

const MANIFESTS: Record<string, unknown> = {
  'codi-backbone': backboneManifest,
  'codi-depth': depthManifest,
  'codi-edit': editManifest,
  'codi-inpaint': inpaintManifest,
  'codi-restore-x4': restoreManifest,
  'codi-restore-x4-degraded': restoreDegradedManifest,
};

/** The bundled packs as listPacks describes them (the manifest fields the UI sees). */
function bundled(name: string, instructions: string[] = []): PackInfo {
  const m = manifestSchema.parse(MANIFESTS[name]);
  return {
    name: m.name,
    title: m.title,
    version: m.version,
    task: m.task,
    method: m.method,
    source: 'bundled',
    steps: { default: m.sampler.steps, max: m.sampler.maxSteps },
    upscale: m.upscale,
    takesText: m.textEmbeddingDim > 0,
    instructions,
    status: 'ok',
    measured: measuredSteps(m),
  };
}

const bare = (name: string, task: PackInfo['task'], extra: Partial<PackInfo> = {}): PackInfo => ({
  name, title: name, version: '1', task, method: 'codi', source: 'bundled', steps: { default: 2, max: 8 }, upscale: 1, takesText: false, instructions: [], status: 'ok', ...extra,
});

describe('the tool a new user starts with', () => {
  it('is the bundled pack that measurably improves a photo, never the depth tool (listed first)', () => {
    const packs = ['codi-backbone', 'codi-depth', 'codi-edit', 'codi-inpaint', 'codi-restore-x4', 'codi-restore-x4-degraded'].map((n) => bundled(n));
    expect(packs[1]!.task).toBe('depth');
    expect(defaultTool(packs)?.name).toBe('codi-edit');
    // Both gains come from the packs' own val measurements (manifest training.metrics); edit's change
    // over its input is large, restore's over bicubic small (a third of a dB), so edit is the default.
    const edit = measuredGain(packs[2]!);
    const restore = measuredGain(packs[4]!);
    expect(edit).toBeGreaterThan(1);
    expect(restore).not.toBeNull();
    expect(edit!).toBeGreaterThan(restore!);
    expect(edit!).toBeGreaterThan(measuredGain(packs[5]!)!);
  });

  it('falls back to a plain-photo tool when nothing is measured, and to a special-input one only when alone', () => {
    expect(defaultTool([bare('d', 'depth'), bare('i', 'inpaint'), bare('e', 'edit'), bare('r', 'restore')])?.name).toBe('r');
    expect(defaultTool([bare('d', 'depth'), bare('i', 'inpaint')])?.name).toBe('i');
    expect(defaultTool([bare('d', 'depth', { status: 'invalid' }), bare('e', 'edit')])?.name).toBe('e');
    expect(defaultTool([bare('d', 'depth')])).toBeNull();
    expect(defaultTool([bare('d', 'depth', { status: 'invalid' }), bare('b', 'backbone')])).toBeNull();
    expect(defaultTool([])).toBeNull();
  });

  it('starts an edit tool on a contrast boost when the pack knows that wording', () => {
    expect(defaultInstruction(bare('e', 'edit', { takesText: true, instructions: ['make it dark', 'more contrast'] }))).toBe('more contrast');
    expect(defaultInstruction(bare('e', 'edit', { takesText: true, instructions: ['make it dark'] }))).toBeNull();
    expect(defaultInstruction(bare('r', 'restore'))).toBeNull();
  });

  it('says what the depth and inpaint tools need', () => {
    expect(NEEDS_INPUT.depth).toMatch(/depth map: a grey image, white = near/);
    expect(NEEDS_INPUT.inpaint).toMatch(/mask/);
    expect(NEEDS_INPUT.edit).toBeUndefined();
  });
});

describe('the steps hint', () => {
  it("says what the pack measured per step count, not 'more steps = more detail'", () => {
    const measured = { steps: [{ steps: 1, psnrDb: 27.58 }, { steps: 2, psnrDb: 18.38 }, { steps: 4, psnrDb: 16.93 }], inputPsnrDb: 21.07 };
    const hint = stepsHint(bare('e', 'edit', { steps: { default: 1, max: 8 }, measured }));
    expect(hint).toBe('Measured on validation crops, photos kept out of training (PSNR, higher is closer to the target): 1 step 27.6 dB, 2 steps 18.4 dB, 4 steps 16.9 dB; the unchanged input 21.1 dB. Default 1, the best measured.');
    expect(hint).not.toMatch(/more detail/i);
    expect(stepsHint(bare('e', 'edit', { steps: { default: 4, max: 8 }, measured }))).toMatch(/Default 4\.$/);
    // the bundled packs ship their own measurements, and each defaults to its best
    for (const name of ['codi-edit', 'codi-inpaint', 'codi-restore-x4', 'codi-restore-x4-degraded']) expect(stepsHint(bundled(name))).toMatch(/^Measured on validation crops.*: 1 step \d+\.\d dB, 2 steps .* Default 1, the best measured\.$/);
  });

  it('says when a pack ships no measurements', () => {
    expect(stepsHint(bare('x', 'restore'))).toBe("Default for this tool: 2 steps (the pack's own default; it ships no step measurements).");
  });
});
