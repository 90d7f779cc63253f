/** Execution-provider lists, kept apart from ort.ts so processes that never run ONNX (main, web server) need not load it. */
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

