import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, NamedAttrMap, NamedTensorInfoMap, Tensor4D } from '@tensorflow/tfjs';
import { filterGradPlan } from './conv-geometry.ts';
import { cropAxes, nhwcConvInfo } from './conv-plan-ops.ts';
import { runWithTensors } from './run-ops.ts';

/**
 * Conv2DBackpropFilter (the filter gradient of conv2d) as one forward convolution. Why: the wasm
 * backend does not register this kernel at all, so no conv net trains there. With the batch axis
 * moved into the channel slot, dw[kh,kw,ci,co] = Σ x[n, o·s + kh − p, ci] · dy[n, o, co] is a
 * forward conv of x as [Cin, H, W, N] with dy as a [Oh, Ow, N, Cout] filter dilated by the stride
 * (the dilation replaces zero-upsampling dy, so strided convs cost no extra FLOPs here).
 */
export function conv2dBackpropFilterAsForward(args: {
  inputs: NamedTensorInfoMap;
  attrs?: NamedAttrMap;
}): Tensor4D {
  const { x, dy } = args.inputs;
  if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter: needs inputs x and dy');
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = nhwcConvInfo('Conv2DBackpropFilter', x.shape, attrs.filterShape, attrs);
  const planH = filterGradPlan({ inSize: info.inHeight, outSize: info.outHeight, kernel: info.filterHeight, stride: info.strideHeight, padBefore: info.padInfo.top });
  const planW = filterGradPlan({ inSize: info.inWidth, outSize: info.outWidth, kernel: info.filterWidth, stride: info.strideWidth, padBefore: info.padInfo.left });
  return runWithTensors([x, dy], ([xT, dyT]) => {
    const window = cropAxes(xT as Tensor4D, planH, planW);
    const batchAsChannels = tf.transpose(window, [3, 1, 2, 0]); // [Cin, H', W', N]
    const dyAsFilter = tf.transpose(dyT as Tensor4D, [1, 2, 0, 3]); // [Oh, Ow, N, Cout]
    const grad = tf.conv2d(
      batchAsChannels,
      dyAsFilter,
      1,
      [
        [0, 0],
        [planH.padBefore, planH.padAfter],
        [planW.padBefore, planW.padAfter],
        [0, 0],
      ],
      'NHWC',
      [info.strideHeight, info.strideWidth],
    ); // [Cin, kh, kw, Cout]
    return tf.transpose(grad, [1, 2, 0, 3]);
  }) as Tensor4D;
}

export const conv2dBackpropFilterConfig = (backendName: string): KernelConfig => ({
  kernelName: tf.Conv2DBackpropFilter,
  backendName,
  kernelFunc: conv2dBackpropFilterAsForward,
});
