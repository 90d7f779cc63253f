/** Which execution providers are tried: only those whose libraries exist, so no failed probe prints. */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { absentProviders, defaultProviderOrder } from './providers.ts';
import type { ProviderHost } from './providers.ts';
import { OrtRuntime, plainReason } from './ort.ts';

const BIN = '/ort/bin';
function host(platform: NodeJS.Platform, files: string[], libraries: string[]): ProviderHost {
  return { platform, ortBinDir: BIN, exists: (f) => files.includes(f), findsLibrary: (name) => libraries.includes(name) };
}
const cudaLibs = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'].map((f) => path.join(BIN, f));

describe('absent providers', () => {
  it('leaves out CUDA without ORT\'s CUDA libraries or without the NVIDIA driver, and WebGPU without Vulkan, on Linux', () => {
    const bare = absentProviders(defaultProviderOrder('linux'), host('linux', [], []));
    expect(Object.fromEntries(bare)).toEqual({ cuda: "ONNX Runtime's CUDA libraries are not installed", webgpu: 'no Vulkan loader (libvulkan.so.1)' });
    const noDriver = absentProviders(['cuda'], host('linux', cudaLibs, []));
    expect(noDriver.get('cuda')).toBe('no NVIDIA driver (libcuda.so.1)');
    const gpu = absentProviders(defaultProviderOrder('linux'), host('linux', cudaLibs, ['libcuda.so.1', 'libvulkan.so.1']));
    expect(gpu.size).toBe(0);
  });

  it('keeps WebGPU where it does not go through Vulkan, and CPU always', () => {
    expect(absentProviders(['webgpu', 'cpu'], host('darwin', [], [])).size).toBe(0);
    expect(absentProviders(['cpu'], host('linux', [], [])).size).toBe(0);
  });

  it('the runtime never tries an absent provider and says why in one plain line', () => {
    const rt = new OrtRuntime({ providers: defaultProviderOrder('linux'), threads: 1, host: host('linux', [], []) });
    const info = rt.providerInfo();
    expect(info.active).toBe('cpu');
    expect(info.note).toBe("no model loaded yet; will try cpu; cuda: ONNX Runtime's CUDA libraries are not installed; webgpu: no Vulkan loader (libvulkan.so.1)");
  });
});

describe('plainReason', () => {
  it('drops the C++ source location and failed check from an ORT error', () => {
    const webgpu = new Error(
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n',
    );
    expect(plainReason(webgpu)).toBe('Failed to get a WebGPU adapter: No supported adapters');
    expect(plainReason(new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'))).toBe('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
  });
});
