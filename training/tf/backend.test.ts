import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { describeBackend, initTrainingBackend } from './backend.ts';

describe('initTrainingBackend', () => {
  it('falls back to wasm here (no tfjs-node), registers the gradient kernels, and is idempotent', async () => {
    const lines: string[] = [];
    const first = await initTrainingBackend({ log: (line) => lines.push(line) });
    const again = await initTrainingBackend({ log: (line) => lines.push(line) });
    expect(again).toBe(first);
    expect(lines).toHaveLength(1);
    expect(first.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(first.why).toMatch(/SIMD/);
    expect(first.why).toMatch(/tfjs-node: not installed/);
    expect(first.projectKernels).toEqual(expect.arrayContaining(['Conv2DBackpropFilter', 'Conv2DBackpropInput']));
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(describeBackend()).toMatch(/^wasm: .*Conv2DBackpropFilter/);
  });

  it('honours prefer: cpu and can switch back', async () => {
    const cpu = await initTrainingBackend({ prefer: 'cpu', log: () => {} });
    expect(cpu.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await initTrainingBackend({ prefer: 'wasm', log: () => {} });
    expect(wasm.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});
