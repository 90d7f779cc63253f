import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.ts';
import { resizeNearestNeighborGradConfig } from './resize-nearest-grad.ts';
import { tileGradConfig } from './tile-grad.ts';

/**
 * The kernels the project adds or replaces on a backend (why each exists: see its module).
 * wasm: both conv gradients as forward convs, and the nearest-resize gradient (exact for
 * halfPixelCenters too, which the shipped kernel ignores). cpu: the nearest-resize gradient fix.
 * Other backends (tfjs-node, webgl) keep their own kernels.
 */
export function projectKernelConfigs(backendName: string): KernelConfig[] {
  switch (backendName) {
    case 'wasm':
      return [conv2dBackpropFilterConfig('wasm'), conv2dBackpropInputConfig('wasm'), resizeNearestNeighborGradConfig('wasm')];
    case 'cpu':
      return [resizeNearestNeighborGradConfig('cpu')];
    default:
      return [];
  }
}

/**
 * Registers the project's kernels for `backendName`. Idempotent: a kernel that is already ours is
 * left alone; one the backend ships is unregistered first (registerKernel over a taken name
 * still replaces it, but logs a warning that reads like a mistake). Returns the kernel names that
 * are now the project's on that backend.
 */
export function registerProjectKernels(backendName: string): string[] {
  const names: string[] = [];
  for (const config of projectKernelConfigs(backendName)) {
    const existing = tf.getKernel(config.kernelName, backendName);
    if (existing?.kernelFunc !== config.kernelFunc) {
      if (existing !== undefined) tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
    names.push(config.kernelName);
  }
  return names;
}

/** Gradient functions the project replaces for every backend. Returns their kernel names. */
export function registerProjectGradients(): string[] {
  tf.registerGradient(tileGradConfig);
  return [tileGradConfig.kernelName];
}
