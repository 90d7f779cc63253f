import * as tf from '@tensorflow/tfjs';
import type { Tensor, TensorInfo } from '@tensorflow/tfjs';

/**
 * Runs a kernel body written with ordinary tf ops.
 *
 * A kernel receives bare TensorInfos that the caller owns. `makeTensorFromTensorInfo` wraps one
 * without copying, but the data's reference count lives in the backend and the wrapper does not
 * add to it, so disposing the wrapper would free the caller's data (found by experiment: the
 * next op on that input failed). Each wrapper therefore takes its own backend reference, and the
 * tidy then drops wrappers and intermediates alike. The result Tensor leaves the tidy tracked by
 * the caller's scope; the engine takes a returned Tensor as the kernel output as-is (it only wraps
 * results that have no rank), so it carries exactly one reference. Ops run inside a kernel are
 * not recorded on the gradient tape (the engine's kernelDepth > 0). The "does not leak" test
 * checks tensor and data-buffer counts across repeated gradient steps.
 */
export function runWithTensors<const A extends readonly TensorInfo[]>(infos: A, body: (inputs: { [K in keyof A]: Tensor }) => Tensor): Tensor {
  const engine = tf.engine();
  return tf.tidy(() =>
    body(
      // one wrapper per info, in order: the tuple type says so to the body
      infos.map((info) => {
        const wrapper = engine.makeTensorFromTensorInfo(info);
        engine.backend.incRef(info.dataId);
        return wrapper;
      }) as { [K in keyof A]: Tensor },
    ),
  );
}
