import { describe, expect, it } from 'vitest';
import { estimateSeconds, getPreset, PRESETS, USER_PRESETS } from './presets.ts';

describe('presets', () => {
  it('orders the user presets by budget and keeps crops latent-aligned', () => {
    const budgets = USER_PRESETS.map((id) => PRESETS[id].steps * PRESETS[id].batchSize);
    expect([...budgets].sort((a, b) => a - b)).toEqual(budgets);
    for (const p of Object.values(PRESETS)) {
      expect(p.crop % 4).toBe(0);
      expect(p.previewEvery).toBeLessThanOrEqual(p.steps);
      expect(p.lr).toBeGreaterThan(0);
    }
  });

  it('Quick fits 10 minutes at the measured 2-core rate (1.3 s/step at batch 4, shared CPU)', () => {
    expect(estimateSeconds(getPreset('quick'), 1.3)).toBeLessThanOrEqual(600);
  });

  it('estimates from seconds per step, counting preview passes', () => {
    const p = getPreset('quick');
    expect(estimateSeconds(p, 2, 10)).toBe(p.steps * 2 + Math.floor(p.steps / p.previewEvery) * 2 + 10);
  });

  it('rejects an unknown preset', () => {
    expect(() => getPreset('huge')).toThrow(/unknown preset/);
  });
});
