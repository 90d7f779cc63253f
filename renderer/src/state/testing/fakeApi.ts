/**
 * A scripted CodiApi for the state modules' tests: the calls a test gives, an event emitter,
 * and a rejection for any call the test did not expect.
 */
import type { CodiApi, Result } from '../../engine-client/index.ts';
import type { CodiEvent, PackInfo } from '../../engine-client/index.ts';

export function scriptedApi(over: Partial<CodiApi>): { api: CodiApi; emit: (e: CodiEvent) => void; calls: string[] } {
  const listeners = new Set<(e: CodiEvent) => void>();
  const calls: string[] = [];
  const api = new Proxy({} as CodiApi, {
    get(_t, prop: string) {
      if (prop === 'onEvent') return (l: (e: CodiEvent) => void) => (listeners.add(l), () => listeners.delete(l));
      const f = (over as Record<string, ((...a: unknown[]) => unknown) | undefined>)[prop];
      return (...args: unknown[]) => {
        calls.push(prop);
        return f ? f(...args) : Promise.reject(new Error(`${prop} is not used by this test`));
      };
    },
  });
  return { api, emit: (e) => listeners.forEach((l) => l(e)), calls };
}

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

/** A pack as listPacks describes it, with only what a test cares about changed. */
export function pack(name: string, task: PackInfo['task'], extra: Partial<PackInfo> = {}): PackInfo {
  return { name, title: name, version: '1', task, method: 'codi', source: 'bundled', steps: { default: 2, max: 8 }, upscale: 1, takesText: false, instructions: [], status: 'ok', ...extra };
}
