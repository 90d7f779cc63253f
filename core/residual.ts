/**
 * Residual targets (manifest `residual: 'condition'`): the model generates y = x − b instead of
 * x, where the base b is the image the condition already carries: its first `latentC` channels
 * (restore: the bicubic upsample; edit and custom: the source photo; inpaint: the photo with the
 * hole zeroed). Why: a small adapter trained for minutes on a CPU then starts from the condition
 * rather than from nothing, and only has to learn the change (detail, denoising, the look),
 * which is what a from-noise generator of this size failed to do (it lost the photo's content).
 * Training subtracts b from x; every place that samples adds it back, both through here.
 * Layout: NCHW, batch-major, so b of item i is the contiguous block cond[i·Cc·hw … +C·hw).
 *
 * Scale k (manifest `residualScale`): the model generates y = k·(x − b). Why: a residual is far
 * smaller than a photo (restore ×4: std 0.13 against ~0.5), so at every t its signal-to-noise
 * ratio is that of a photo at a much larger t; the schedule, c_skip/c_out (σ_data = 0.5) and the
 * pretrained backbone all assume photo-sized data. Measured on the unscaled restore pack: x̂ from
 * the true z_t was 15–17 dB for t = 200–600 against 23.7 dB at t = 999 — worse with more signal.
 * The same role as a latent diffusion model's VAE scaling factor.
 */
import type { PackTask } from './packs/manifest.ts';
import type { F32Tensor } from './tensor/ops.ts';

export type ResidualMode = 'none' | 'condition';

/** Tasks whose condition starts with an image aligned with the output. Depth does not. */
export function residualAllowed(task: PackTask): boolean {
  return task === 'restore' || task === 'edit' || task === 'custom' || task === 'inpaint';
}

/** k of y = k·(x − b): a positive, finite number. */
export function checkResidualScale(scale: number): number {
  if (!Number.isFinite(scale) || scale <= 0) throw new RangeError(`residual scale must be a positive number, got ${scale}`);
  return scale;
}

// to y: (x − b)·k; back to x: y/k + b
function combine(x: Float32Array, cond: Float32Array, batch: number, toResidual: boolean, scale: number): Float32Array {
  checkResidualScale(scale);
  if (batch < 1 || x.length % batch !== 0 || cond.length % batch !== 0) throw new RangeError('residual base: batch does not divide the tensors');
  const per = x.length / batch;
  const condPer = cond.length / batch;
  if (condPer < per) throw new RangeError(`residual base: the condition (${condPer} values per item) is smaller than the target (${per})`);
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    const o = b * per;
    const c = b * condPer;
    if (toResidual) for (let i = 0; i < per; i++) out[o + i] = ((x[o + i] as number) - (cond[c + i] as number)) * scale;
    else for (let i = 0; i < per; i++) out[o + i] = (x[o + i] as number) / scale + (cond[c + i] as number);
  }
  return out;
}

/** Training target y = k·(x − b) for one item or a batch (x [B?, C, h, w], cond [B?, Cc, h, w]). */
export function subtractBase(x: Float32Array, cond: Float32Array, batch = 1, scale = 1): Float32Array {
  return combine(x, cond, batch, true, scale);
}

/** Sampled residual back to the image: x = y/k + b (y [B, C, h, w], cond [B, Cc, h, w]). */
export function addBase(y: F32Tensor, cond: F32Tensor, scale = 1): F32Tensor {
  const B = y.shape[0] ?? 1;
  if ((cond.shape[0] ?? 1) !== B) throw new RangeError('residual base: condition and sample differ in batch size');
  return { data: combine(y.data, cond.data, B, false, scale), shape: [...y.shape] };
}
