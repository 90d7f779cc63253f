import * as tf from '@tensorflow/tfjs';
import type { Tensor4D } from '@tensorflow/tfjs';
import type { AxisPlan } from './conv-geometry.ts';

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** Conv geometry as the forward conv computed it; only NHWC and dilation 1 have gradients here. */
export function nhwcConvInfo(
  kernel: string,
  inShape: readonly number[],
  filterShape: readonly number[],
  attrs: {
    strides: [number, number] | number;
    pad: Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  },
): ConvInfo {
  if (attrs.dataFormat === 'NCHW') throw new Error(`${kernel}: only NHWC is supported (the wasm Conv2D is channels-last)`);
  const [sh, sw] = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
  if (typeof attrs.pad === 'number' && sh !== sw) {
    // tfjs-core 4.22 sizes the output width with the height stride when pad is a number, so the
    // forward conv is already wrong (on wasm it writes past its output buffer). Use explicit pads.
    throw new Error(`${kernel}: a numeric pad with unequal strides [${sh}, ${sw}] is mis-sized by tfjs-core; pass explicit pads instead`);
  }
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** Keeps the planned rows/columns; zero padding is left to the convolution's explicit padding. */
export function cropAxes(t: Tensor4D, planH: AxisPlan, planW: AxisPlan): Tensor4D {
  const [n, h, w, c] = t.shape;
  if (planH.cropStart === 0 && planH.cropEnd === h && planW.cropStart === 0 && planW.cropEnd === w) return t;
  return tf.slice(t, [0, planH.cropStart, planW.cropStart, 0], [n, planH.cropEnd - planH.cropStart, planW.cropEnd - planW.cropStart, c]);
}

/** [N,H,W,C] → [N,H·sh,W·sw,C] with each sample at (i·sh, j·sw) and zeros elsewhere. */
export function zeroUpsample(t: Tensor4D, sh: number, sw: number): Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [n, h, w, c] = t.shape;
  const spread = tf.pad(tf.reshape(t, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [n, h * sh, w * sw, c]);
}
