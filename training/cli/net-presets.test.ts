import { describe, expect, it } from 'vitest';
import { backboneParamSpecs } from '../../core/nn/trace.ts';
import { NET_PRESETS } from './train.ts';

const params = (name: keyof typeof NET_PRESETS): number => backboneParamSpecs(NET_PRESETS[name]).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);

describe('--net presets', () => {
  it("'large' is at least 10× the bundled 'small' backbone, with attention at the lowest resolution", () => {
    expect(params('small')).toBe(1437808);
    expect(params('large') / params('small')).toBeGreaterThanOrEqual(10);
    expect(NET_PRESETS.large.attention).toBe(true);
    expect(NET_PRESETS.small.attention).toBe(false);
  });
});
