/** Execution-provider lists, kept apart from ort.ts so processes that never run ONNX (main, web server) need not load it. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionProvider } from '../contract/schemas.ts';

/**
 * The providers worth trying on this platform, best first. CUDA exists only in Linux/Windows
 * x64 builds installed with the CUDA libraries, DirectML only on Windows, CoreML only on macOS;
 * WebGPU is bundled but experimental, so it comes after the native GPU providers.
 */
export function defaultProviderOrder(platform: NodeJS.Platform = process.platform): ExecutionProvider[] {
  const order: ExecutionProvider[] = [];
  if (platform === 'linux' || platform === 'win32') order.push('cuda');
  if (platform === 'win32') order.push('dml');
  if (platform === 'darwin') order.push('coreml');
  order.push('webgpu', 'cpu');
  return order;
}

/** Parse a provider list like "cuda,cpu" (env CODI_EP); unknown names are dropped. */
export function parseProviderList(text: string | undefined): ExecutionProvider[] | undefined {
  if (!text) return undefined;
  const known = new Set<ExecutionProvider>(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
  const list = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s): s is ExecutionProvider => known.has(s as ExecutionProvider));
  return list.length > 0 ? list : undefined;
}

/** What {@link absentProviders} looks at: the platform, ORT's native folder, and how to find files. */
export interface ProviderHost {
  platform: NodeJS.Platform;
  /** The folder holding onnxruntime-node's binding and libonnxruntime. */
  ortBinDir: string;
  exists(file: string): boolean;
  /** Whether the dynamic loader can find a shared library by name (Linux). */
  findsLibrary(name: string): boolean;
}

/**
 * Providers that cannot load on this machine, each with the reason in plain words, decided from
 * files alone. ONNX Runtime and Dawn print every failed probe to stderr themselves (a red C++
 * error for CUDA without its libraries, "Couldn't load Vulkan" for WebGPU), so a provider that
 * cannot exist is never asked for at all.
 */
export function absentProviders(order: readonly ExecutionProvider[], host: ProviderHost): Map<ExecutionProvider, string> {
  const absent = new Map<ExecutionProvider, string>();
  for (const p of order) {
    const why = absenceOf(p, host);
    if (why) absent.set(p, why);
  }
  return absent;
}

function absenceOf(provider: ExecutionProvider, host: ProviderHost): string | null {
  if (provider === 'cuda') {
    // onnxruntime-node ships without its CUDA provider libraries on Linux (README, GPUs)
    const libs = host.platform === 'win32' ? ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll'] : ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
    if (!libs.every((f) => host.exists(path.join(host.ortBinDir, f)))) return "ONNX Runtime's CUDA libraries are not installed";
    if (host.platform === 'linux' && !host.findsLibrary('libcuda.so.1')) return 'no NVIDIA driver (libcuda.so.1)';
  }
  // WebGPU (Dawn) reaches the GPU through Vulkan on Linux
  if (provider === 'webgpu' && host.platform === 'linux' && !host.findsLibrary('libvulkan.so.1')) return 'no Vulkan loader (libvulkan.so.1)';
  return null;
}

/** The real machine: the loader's search path is LD_LIBRARY_PATH, the ld.so cache and the system folders. */
export function systemProviderHost(ortBinDir: string, env: NodeJS.ProcessEnv = process.env): ProviderHost {
  let cache: string | null | undefined;
  const ldCache = () => {
    if (cache === undefined) {
      try {
        cache = readFileSync('/etc/ld.so.cache', 'latin1');
      } catch {
        cache = null;
      }
    }
    return cache;
  };
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/lib', '/usr/lib', '/lib64', '/usr/lib64', `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '/usr/local/lib'];
  return {
    platform: process.platform,
    ortBinDir,
    exists: existsSync,
    findsLibrary: (name) => dirs.some((d) => existsSync(path.join(d, name))) || (ldCache()?.includes(`${name}\0`) ?? false),
  };
}
