/**
 * Seeded generator of hostile payloads for the contract channels: wrong types, huge arrays,
 * deep nesting, prototype keys, NaN/Inf, negative and oversized sizes, mismatched mask data,
 * path tricks, and near-valid requests with one field broken. Deterministic per seed, so a
 * failure is reproducible from the seed printed by the test.
 */
import type { ChannelName } from '../../electron/contract/channels.ts';

/** xorshift32 in [0, 1). */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 0x100000000;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
}

const NUMBERS = [0, -1, -0, 1, 7, 0.5, -2147483648, 2 ** 31, 2 ** 32, 2 ** 53, Number.MAX_VALUE, -Number.MAX_VALUE, Number.NaN, Infinity, -Infinity, 1e-320, 32769, 50_000];
const STRINGS = [
  '',
  ' ',
  'img_',
  'img_' + 'a'.repeat(65),
  'img_../../x',
  'job_1; rm -rf /',
  'batch_x',
  '../../../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows\\system.ini',
  '\\\\?\\C:\\x',
  'a\0b',
  '%2e%2e%2f',
  '__proto__',
  'constructor',
  'restore',
  'inpaint',
  'png',
  'x'.repeat(70_000),
  '\u202e\ud800',
  'codi:runTool',
];

/** Keys that attack prototypes or confuse naive merging. */
export const EVIL_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '$bin'];

/** One valid request per channel; mutations start from these (templates avoid real effects: unknown ids, paths under `sandbox`). */
export function templates(sandbox: string): Record<ChannelName, Record<string, unknown>> {
  return {
    getAppInfo: {},
    listPacks: {},
    openImage: { source: 'path', path: `${sandbox}/missing.png` },
    getImagePixels: { imageId: 'img_fuzz', maxSide: 64 },
    releaseImage: { imageId: 'img_fuzz' },
    runTool: { tool: 'inpaint', imageId: 'img_fuzz', mask: { width: 2, height: 2, data: new Uint8Array(4) }, steps: 2, seed: 1, strength: 0.5 },
    cancelJob: { jobId: 'job_fuzz' },
    jobStatus: { jobId: 'job_fuzz' },
    saveImage: { imageId: 'img_fuzz', format: 'png', path: `${sandbox}/out.png` },
    encodeImage: { imageId: 'img_fuzz', format: 'jpeg', quality: 80 },
    pickOpenPath: {},
    pickSavePath: { defaultName: 'x.png', format: 'png' },
    startBatch: { tool: 'restore', inDir: `${sandbox}/in-missing`, outDir: `${sandbox}/out` },
    pauseBatch: { batchId: 'batch_fuzz' },
    resumeBatch: { batchId: 'batch_fuzz' },
    cancelBatch: { batchId: 'batch_fuzz' },
    writeAutosave: { session: { name: 'fuzz.png', path: null, width: 2, height: 2, savedAt: 1, image: new Uint8Array(8), state: '{}' } },
    readAutosave: {},
    clearAutosave: {},
    personalPreflight: { source: { dir: `${sandbox}/pairs-missing` }, estimate: false },
    personalStart: { source: { dir: `${sandbox}/pairs-missing` }, title: 'fuzz', preset: 'tiny', steps: 1 },
    personalPause: { runId: 'run-fuzz' },
    personalResume: { runId: 'run-fuzz' },
    personalCancel: { runId: 'run-fuzz' },
    personalStatus: {},
    exportAdapter: { pack: 'fuzz-missing', path: `${sandbox}/x.codi-adapter` },
    importAdapter: { path: `${sandbox}/missing.codi-adapter` },
    describeHubRepo: { repo: 'fuzz/missing' },
    startPull: { repo: 'fuzz/missing', acceptLicence: false },
    cancelPull: { pullId: 'pull_fuzz' },
    removePack: { name: 'fuzz-missing' },
    verifyPack: { name: 'fuzz-missing', repair: false },
    getHubSettings: {},
    setHubSettings: { endpoint: null },
  };
}

function deep(r: Prng, depth: number): unknown {
  let v: unknown = r.pick([1, 'x', null, []]);
  for (let i = 0; i < depth; i++) v = r.next() < 0.5 ? [v] : { a: v };
  return v;
}

// Built once and shared: the validators see the same huge shapes without the generator paying for them each time.
const seedPrng = new Prng(7);
const ARRAYS: readonly unknown[][] = [[], [1], NUMBERS.slice(0, 5), Array.from({ length: 10_000 }, (_, i) => NUMBERS[i % NUMBERS.length])];
const DEEP: readonly unknown[] = [40, 200, 2000].map((d) => deep(seedPrng, d));

/** A random hostile value; `binary` allows Uint8Array (both transports carry them). */
export function randomValue(r: Prng, level = 0): unknown {
  switch (r.int(level > 2 ? 5 : 12)) {
    case 0:
      return r.pick(NUMBERS);
    case 1:
      return r.pick(STRINGS);
    case 2:
      return r.pick([true, false, null, undefined]);
    case 3:
      return new Uint8Array(r.pick([0, 1, 3, 4, 1000]));
    case 4:
      return r.int(1000) - 500;
    case 5:
      return r.pick(ARRAYS);
    case 6:
      return r.pick(DEEP);
    case 7: {
      // Own "__proto__" and friends, as JSON.parse and structured clone produce them.
      const key = r.pick(EVIL_KEYS);
      return JSON.parse(`{"${key}": {"polluted": "yes", "isAdmin": true}, "tool": "restore"}`) as unknown;
    }
    case 8:
      return { width: r.pick(NUMBERS), height: r.pick(NUMBERS), data: new Uint8Array(r.int(64)) };
    case 9:
      return Object.assign(Object.create(null) as object, { source: 'path', path: r.pick(STRINGS) });
    case 10:
      return [randomValue(r, level + 1), randomValue(r, level + 1)];
    default: {
      const o: Record<string, unknown> = {};
      // Own properties (as JSON.parse and structured clone make them), never prototype assignment.
      for (let i = r.int(4); i >= 0; i--) {
        Object.defineProperty(o, r.pick([...EVIL_KEYS, 'imageId', 'path', 'tool', 'x']), { value: randomValue(r, level + 1), enumerable: true, configurable: true, writable: true });
      }
      return o;
    }
  }
}

/** A payload for `channel`: fully random, or the template with 1–3 fields broken, removed or added. */
export function fuzzPayload(r: Prng, template: Record<string, unknown>): unknown {
  if (r.next() < 0.3) return randomValue(r);
  const p: Record<string, unknown> = { ...template };
  const keys = Object.keys(p);
  for (let n = 1 + r.int(3); n > 0; n--) {
    const op = r.int(4);
    if (op === 0 && keys.length > 0) p[r.pick(keys)] = randomValue(r);
    else if (op === 1 && keys.length > 0) delete p[r.pick(keys)];
    else if (op === 2) Object.defineProperty(p, r.pick(EVIL_KEYS), { value: randomValue(r), enumerable: true, configurable: true, writable: true });
    else if (keys.includes('mask')) p.mask = { width: r.pick([2, 3, -2, 0, 40_000]), height: r.pick([2, 5, -1]), data: new Uint8Array(r.pick([0, 3, 4, 9])) };
    else p[`extra${r.int(3)}`] = randomValue(r);
  }
  return p;
}

/** Snapshot of Object.prototype's own keys and a probe, to detect pollution. */
export function prototypeFingerprint(): string {
  const probe = {} as Record<string, unknown>;
  return JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), probe.polluted, probe.isAdmin, Object.getOwnPropertyNames(Array.prototype).length]);
}
