import { describe, expect, it } from 'vitest';
import { measuredSteps } from './measured-steps.ts';

describe('measured steps from the manifest', () => {
  const metrics = { psnr_val_codi_1: 27.58, psnr_val_codi_2: 18.12, psnr_val_codi_4: 15.13, psnr_val_condition: 21.07, psnr_val_renoise_2: 18.38, psnr_val_renoise_4: 16.93 };

  it("reads the pack's own sampler's figures (1 step is shared by both CoDi samplers)", () => {
    expect(measuredSteps({ sampler: { kind: 'codi-renoise', steps: 1, maxSteps: 8 }, training: { steps: 1, wallSeconds: 1, metrics } })).toEqual({
      steps: [
        { steps: 1, psnrDb: 27.58 },
        { steps: 2, psnrDb: 18.38 },
        { steps: 4, psnrDb: 16.93 },
      ],
      inputPsnrDb: 21.07,
    });
    expect(measuredSteps({ sampler: { kind: 'codi', steps: 1, maxSteps: 2 }, training: { steps: 1, wallSeconds: 1, metrics } }).steps).toEqual([
      { steps: 1, psnrDb: 27.58 },
      { steps: 2, psnrDb: 18.12 },
    ]);
  });

  it('is empty for a pack without measurements', () => {
    expect(measuredSteps({ sampler: { kind: 'codi', steps: 2, maxSteps: 8 } })).toEqual({ steps: [] });
    expect(measuredSteps({ sampler: { kind: 'ddim', steps: 50, maxSteps: 1000 }, training: { steps: 1, wallSeconds: 1, metrics } })).toEqual({ steps: [], inputPsnrDb: 21.07 });
  });
});
