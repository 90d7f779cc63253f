/**
 * Restoration inputs for the bench: the held-out photo crops of engineer J's evaluation set
 * (bicubic degradation, from the reserved evaluation packages), or seeded synthetic crops when
 * that set is not cached on this machine (then quality numbers are labelled as synthetic).
 */
import type { PlanarImage } from '../../../training/data/image.ts';
import { createImage } from '../../../training/data/image.ts';
import { loadHeldoutSet, loadPair, quickSubset } from '../../eval/heldout.ts';
import { resizeArea } from '../../../core/image/resize.ts';
import { modelToPlanar, planarToModel } from '../../eval/convert.ts';

export interface RestorePair {
  id: string;
  hr: PlanarImage;
  lr: PlanarImage;
}

export interface RestoreInputs {
  source: string;
  pairs: RestorePair[];
}

export async function restoreInputs(scale: number, count: number, hrSide: number): Promise<RestoreInputs> {
  const set = loadHeldoutSet(undefined, 'bicubic');
  if (set && set.scales.includes(scale) && set.cropSize === hrSide) {
    const crops = quickSubset(set, count);
    const pairs: RestorePair[] = [];
    for (const c of crops) pairs.push({ id: c.id, ...(await loadPair(set, c, scale)) });
    return { source: `held-out photos (${set.packages.map((p) => `${p.name} ${p.version}`).join(', ')}), bicubic ×${scale}, ${hrSide}² crops`, pairs };
  }
  const pairs: RestorePair[] = [];
  for (let k = 0; k < count; k++) {
    const hr = createImage(hrSide, hrSide, 3);
    const n = hrSide * hrSide;
    for (let y = 0; y < hrSide; y++) {
      for (let x = 0; x < hrSide; x++) {
        const i = y * hrSide + x;
        const s = Math.sin((x + 7 * k) / 5) * Math.cos(y / 9);
        hr.data[i] = 0.5 + 0.3 * s;
        hr.data[n + i] = (x / hrSide) * 0.8 + 0.1;
        hr.data[2 * n + i] = (y / hrSide) * 0.6 + 0.2 + 0.1 * s;
      }
    }
    const lr = modelToPlanar(resizeArea(planarToModel(hr), hrSide / scale, hrSide / scale));
    pairs.push({ id: `synthetic-${k}`, hr, lr });
  }
  return { source: `synthetic patterns (held-out set for ×${scale} at ${hrSide}² not cached)`, pairs };
}
