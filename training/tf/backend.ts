/**
 * Chooses and prepares the TensorFlow.js backend that training runs on.
 *
 * Best first: tfjs-node-gpu, tfjs-node (libtensorflow; optional packages, usually absent), wasm
 * (XNNPACK with SIMD; single-threaded in Node) plus the project's gradient kernels, then the
 * pure-JS cpu backend (~0.7 GFLOP/s: a last resort that still trains, very slowly).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerProjectGradients, registerProjectKernels } from './kernels/register.ts';

export type BackendPreference = 'auto' | 'wasm' | 'cpu';

/** Options of {@link initTrainingBackend}. */
export interface InitTrainingBackendOptions {
  /** 'auto' (default) tries the native packages first; 'wasm' starts at wasm; 'cpu' forces cpu. */
  prefer?: BackendPreference;
  /** Folder holding the tfjs-backend-wasm .wasm binaries (e.g. unpacked from an asar archive); default: the installed package's dist/. */
  wasmDir?: string;
  /** Where the one-line choice is reported; default console.info. */
  log?: (line: string) => void;
}

/** The backend training runs on, and why it was chosen. */
export interface TrainingBackend {
  /** tf.getBackend() name: 'tensorflow' (tfjs-node or -gpu), 'wasm' or 'cpu'. */
  readonly name: string;
  /** Human-readable reason, including what was tried and failed. */
  readonly why: string;
  /** Kernels the project registered on this backend (empty for native backends). */
  readonly projectKernels: readonly string[];
}

interface ActiveBackend {
  readonly prefer: BackendPreference;
  readonly result: Promise<TrainingBackend>;
}

let active: ActiveBackend | undefined;
let chosen: TrainingBackend | undefined;

/**
 * Selects the best available backend, registers the project's kernels and gradients on it and
 * makes it current. Idempotent: repeated calls with the same preference share one result; a
 * different preference selects again.
 */
export function initTrainingBackend(opts: InitTrainingBackendOptions = {}): Promise<TrainingBackend> {
  const prefer = opts.prefer ?? 'auto';
  if (active?.prefer === prefer) return active.result;
  const result = selectBackend(prefer, opts).then((backend) => {
    chosen = backend;
    (opts.log ?? console.info)(`[training] TensorFlow.js backend: ${backend.name} (${backend.why})`);
    return backend;
  });
  active = { prefer, result };
  result.catch(() => {
    if (active?.result === result) active = undefined;
  });
  return result;
}

/** One line for logs and the UI: the chosen backend and its kernels, or that none is chosen yet. */
export function describeBackend(): string {
  if (chosen === undefined) return `not initialised (tf.getBackend() = ${tf.getBackend() ?? 'none'})`;
  const kernels = chosen.projectKernels.length > 0 ? `; project kernels: ${chosen.projectKernels.join(', ')}` : '';
  return `${chosen.name}: ${chosen.why}${kernels}`;
}

async function selectBackend(prefer: BackendPreference, opts: InitTrainingBackendOptions): Promise<TrainingBackend> {
  const failures: string[] = [];
  if (prefer === 'auto') {
    for (const [pkg, label] of [
      ['@tensorflow/tfjs-node-gpu', 'tfjs-node-gpu (libtensorflow, CUDA)'],
      ['@tensorflow/tfjs-node', 'tfjs-node (libtensorflow, CPU)'],
    ] as const) {
      const native = await tryNative(pkg);
      if (native === true) return finish('tensorflow', label, failures);
      failures.push(`${pkg}: ${native}`);
    }
  }
  if (prefer !== 'cpu') {
    const wasm = await tryWasm(opts.wasmDir);
    if (typeof wasm !== 'string') return finish('wasm', wasm.why, failures);
    failures.push(`wasm: ${wasm}`);
  }
  if (!(await tf.setBackend('cpu'))) throw new Error(`no TensorFlow.js backend could start (${failures.join('; ')})`);
  return finish('cpu', prefer === 'cpu' ? 'requested' : 'pure-JS fallback, very slow', failures);
}

function finish(name: string, reason: string, failures: readonly string[]): TrainingBackend {
  registerProjectGradients();
  const projectKernels = registerProjectKernels(name);
  const why = failures.length > 0 ? `${reason}; skipped ${failures.join('; ')}` : reason;
  return { name, why, projectKernels };
}

/** true when the package loaded and its backend became current, else the reason it did not. */
async function tryNative(pkg: string): Promise<true | string> {
  try {
    // A variable specifier keeps TypeScript from resolving a package that is usually absent.
    const specifier: string = pkg;
    await import(specifier);
  } catch (err) {
    return isModuleNotFound(err) ? 'not installed' : `failed to load (${errorMessage(err)})`;
  }
  try {
    return (await tf.setBackend('tensorflow')) ? true : 'backend "tensorflow" did not start';
  } catch (err) {
    return `backend "tensorflow" did not start (${errorMessage(err)})`;
  }
}

async function tryWasm(wasmDir: string | undefined): Promise<{ why: string } | string> {
  const dir = wasmDir ?? defaultWasmDir();
  if (dir === undefined) return 'package @tensorflow/tfjs-backend-wasm not found';
  const simdBinary = path.join(dir, 'tfjs-backend-wasm-simd.wasm');
  if (!existsSync(simdBinary) && !existsSync(path.join(dir, 'tfjs-backend-wasm.wasm'))) return `no .wasm binaries in ${dir}`;
  try {
    // Takes effect only before the backend's first initialisation (later calls are harmless);
    // Node's default lookup beside the package's JS would work too, but not from an asar bundle.
    setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    if (!(await tf.setBackend('wasm'))) return 'backend did not start';
    const simdNote = simd === true ? 'SIMD' : 'no SIMD (several times slower)';
    return { why: `wasm, ${simdNote}, ${threads === true ? 'multi-threaded' : 'single-threaded'}, forward-conv gradient kernels` };
  } catch (err) {
    return `did not start (${errorMessage(err)})`;
  }
}

function defaultWasmDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
