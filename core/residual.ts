/**
 * Residual targets (manifest `residual: 'condition'`): the model generates y = x − b instead of
 * x, where the base b is the image the condition already carries: its first `latentC` channels
 * (restore: the bicubic upsample; edit and custom: the source photo; inpaint: the photo with the
 * hole zeroed). Why: a small adapter trained for minutes on a CPU then starts from the condition
 * rather than from nothing, and only has to learn the change (detail, denoising, the look),
 * which is what a from-noise generator of this size failed to do (it lost the photo's content).
 * Training subtracts b from x; every place that samples adds it back, both through here.
 * Layout: NCHW, batch-major, so b of item i is the contiguous block cond[i·Cc·hw … +C·hw).
 */
import type { PackTask } from './packs/manifest.ts';
import type { F32Tensor } from './tensor/ops.ts';

export type ResidualMode = 'none' | 'condition';

/** Tasks whose condition starts with an image aligned with the output. Depth does not. */
export function residualAllowed(task: PackTask): boolean {
  return task === 'restore' || task === 'edit' || task === 'custom' || task === 'inpaint';
}

function combine(x: Float32Array, cond: Float32Array, batch: number, sign: 1 | -1): Float32Array {
  if (batch < 1 || x.length % batch !== 0 || cond.length % batch !== 0) throw new RangeError('residual base: batch does not divide the tensors');
  const per = x.length / batch;
  const condPer = cond.length / batch;
  if (condPer < per) throw new RangeError(`residual base: the condition (${condPer} values per item) is smaller than the target (${per})`);
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    const o = b * per;
    const c = b * condPer;
    for (let i = 0; i < per; i++) out[o + i] = (x[o + i] as number) + sign * (cond[c + i] as number);
  }
  return out;
}

/** Training target y = x − b for one item or a batch (x [B?, C, h, w], cond [B?, Cc, h, w]). */
export function subtractBase(x: Float32Array, cond: Float32Array, batch = 1): Float32Array {
  return combine(x, cond, batch, -1);
}

/** Sampled residual back to the image: x = y + b (y [B, C, h, w], cond [B, Cc, h, w]). */
export function addBase(y: F32Tensor, cond: F32Tensor): F32Tensor {
  const B = y.shape[0] ?? 1;
  if ((cond.shape[0] ?? 1) !== B) throw new RangeError('residual base: condition and sample differ in batch size');
  return { data: combine(y.data, cond.data, B, 1), shape: [...y.shape] };
}
