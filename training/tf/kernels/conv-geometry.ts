/**
 * Index arithmetic that turns the two convolution gradients into forward convolutions.
 *
 * Both gradients read a window of a (conceptually zero-extended) signal. Along one spatial axis
 * the window is [start, end) over a signal of `length` samples; samples outside [0, length) are
 * zeros. A plan says which samples to keep (crop) and how many zeros to add (pad) so that a
 * stride-1 "valid" convolution over the result produces exactly the gradient.
 */

/** Crop then pad one axis: keep samples [cropStart, cropEnd), then add padBefore/padAfter zeros. */
export interface AxisPlan {
  readonly cropStart: number;
  readonly cropEnd: number;
  readonly padBefore: number;
  readonly padAfter: number;
}

/** Geometry of one spatial axis of a forward convolution (dilation 1). */
export interface AxisGeometry {
  /** Input size along the axis. */
  readonly inSize: number;
  /** Output size along the axis (as the forward convolution computed it). */
  readonly outSize: number;
  readonly kernel: number;
  readonly stride: number;
  /** Zero padding before the first input sample (padInfo.top or padInfo.left). */
  readonly padBefore: number;
}

export function windowPlan(start: number, end: number, length: number): AxisPlan {
  const cropStart = Math.min(length, Math.max(0, start));
  const cropEnd = Math.max(cropStart, Math.min(length, end));
  return {
    cropStart,
    cropEnd,
    padBefore: Math.max(0, Math.min(end, 0) - start),
    padAfter: Math.max(0, end - Math.max(length, start)),
  };
}

/**
 * Input gradient: dx[i] = Σ_k dy[(i + p − k) / s] · w[k] over the k where the index is an integer.
 * With dy zero-upsampled by s (length O·s: sample o·s holds dy[o]), dx is a stride-1 valid
 * correlation of the window [p − K + 1, I + p) of that signal with the flipped kernel.
 */
export function inputGradPlan(g: AxisGeometry): AxisPlan {
  const start = g.padBefore - g.kernel + 1;
  return windowPlan(start, start + g.inSize + g.kernel - 1, g.outSize * g.stride);
}

/**
 * Filter gradient: dw[k] = Σ_o x[o·s + k − p] · dy[o]. That is a valid correlation of the input
 * window [−p, −p + (O − 1)·s + K) with dy used as a filter dilated by s; its output has K samples.
 */
export function filterGradPlan(g: AxisGeometry): AxisPlan {
  const start = -g.padBefore;
  return windowPlan(start, start + (g.outSize - 1) * g.stride + g.kernel, g.inSize);
}

/** Length of the signal a plan produces. */
export function plannedLength(plan: AxisPlan): number {
  return plan.padBefore + (plan.cropEnd - plan.cropStart) + plan.padAfter;
}
