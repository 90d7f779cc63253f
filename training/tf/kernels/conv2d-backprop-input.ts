import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelConfig, NamedAttrMap, NamedTensorInfoMap, Tensor4D } from '@tensorflow/tfjs';
import { inputGradPlan } from './conv-geometry.ts';
import { cropAxes, nhwcConvInfo, zeroUpsample } from './conv-plan-ops.ts';
import { runWithTensors } from './run-ops.ts';

/**
 * Conv2DBackpropInput (the input gradient of conv2d, also conv2dTranspose) as one forward
 * convolution. Why: the wasm backend's own kernel is a scalar loop (~10× slower) while
 * its forward Conv2D goes through XNNPACK (~20+ GFLOP/s). dx = conv(dy zero-upsampled by the
 * stride, filter flipped in space with in/out channels swapped), stride 1, explicit padding.
 * Measured with kernels-bench on a loaded machine: shipped 0.61 GFLOP/s, this one 6.4 (stride 1).
 * Stride 2 pays for the zero-upsampled dy (3/4 zeros): ~1.8 GFLOP/s of useful work.
 */
export function conv2dBackpropInputAsForward(args: {
  inputs: NamedTensorInfoMap;
  attrs?: NamedAttrMap;
}): Tensor4D {
  const { dy, filter } = args.inputs;
  if (dy === undefined || filter === undefined) throw new Error('Conv2DBackpropInput: needs inputs dy and filter');
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const info = nhwcConvInfo('Conv2DBackpropInput', attrs.inputShape, filter.shape, attrs);
  const geometry = (axis: 'h' | 'w') =>
    axis === 'h'
      ? { inSize: info.inHeight, outSize: info.outHeight, kernel: info.filterHeight, stride: info.strideHeight, padBefore: info.padInfo.top }
      : { inSize: info.inWidth, outSize: info.outWidth, kernel: info.filterWidth, stride: info.strideWidth, padBefore: info.padInfo.left };
  const planH = inputGradPlan(geometry('h'));
  const planW = inputGradPlan(geometry('w'));
  return runWithTensors([dy, filter], ([dyT, filterT]) => {
    const upsampled = zeroUpsample(dyT as Tensor4D, info.strideHeight, info.strideWidth);
    const window = cropAxes(upsampled, planH, planW);
    // [kh, kw, cin, cout] → reversed in space, channels swapped → [kh, kw, cout, cin].
    const flipped = tf.reverse(tf.transpose(filterT as Tensor4D, [0, 1, 3, 2]), [0, 1]);
    return tf.conv2d(window, flipped, 1, [
      [0, 0],
      [planH.padBefore, planH.padAfter],
      [planW.padBefore, planW.padAfter],
      [0, 0],
    ]);
  }) as Tensor4D;
}

export const conv2dBackpropInputConfig = (backendName: string): KernelConfig => ({
  kernelName: tf.Conv2DBackpropInput,
  backendName,
  kernelFunc: conv2dBackpropInputAsForward,
});
