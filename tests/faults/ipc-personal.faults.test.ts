/**
 * The personal-adapter channels, fuzzed like every other channel (ipc.faults.test.ts) through the
 * Electron `handle()` wrapper. A schema-valid personalStart/personalPreflight starts a training
 * worker; here the manager gets an in-process double that answers as a worker whose pairs
 * folder is missing would (an error, then exit), so the fuzz measures validation and the
 * manager's handling rather than the cost of forking 10 000 processes. The real worker is
 * covered by tests/e2e/personal and tests/faults/training.
 */
import { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/broker/api.ts';
import type { ShellServices } from '../../electron/broker/api.ts';
import type { WorkerProcess } from '../../electron/broker/personal.ts';
import type { Result } from '../../electron/contract/api.ts';
import { CHANNELS, channelsServedBy } from '../../electron/contract/channels.ts';
import type { ChannelName } from '../../electron/contract/channels.ts';
import { SCHEMAS } from '../../electron/contract/schemas.ts';
import type { IpcMainInvokeEventLike } from '../../electron/main/electron-types.ts';
import { createHandle } from '../../electron/main/ipc.ts';
import { APP_URL } from '../../electron/main/security.ts';
import { FULL, startFuzzStack } from './harness.ts';
import type { EngineStack, FuzzStack } from './harness.ts';
import { fuzzPayload, Prng, prototypeFingerprint, templates } from './fuzz.ts';

const PERSONAL: readonly ChannelName[] = channelsServedBy('personal');
const IPC_N = FULL ? 10_000 : 1_500;
const SEED = 20240612;

/** Answers like a worker that cannot read its pairs folder: one error message, then exit 1. */
class MissingPairsWorker extends EventEmitter {
  static spawned = 0;
  constructor() {
    super();
    MissingPairsWorker.spawned++;
    setImmediate(() => {
      this.emit('message', { type: 'error', message: 'pairs folder not found (fuzz double)' });
      this.emit('exit', 1, null);
    });
  }
  send(): boolean {
    return true;
  }
  kill(): boolean {
    return true;
  }
}

let tmp: string;
let sandbox: string;
let stack: EngineStack;
const fingerprint = prototypeFingerprint();

let fuzz: FuzzStack;
beforeAll(async () => {
  fuzz = await startFuzzStack('codi-faults-ipc-personal-');
  ({ tmp, sandbox, stack } = fuzz);
});
afterAll(async () => {
  await fuzz?.stop();
});

describe('faults: IPC fuzzing of the personal-adapter channels', () => {
  it(`ipc-fuzz-personal: ${IPC_N} hostile payloads per personal channel through handle() are refused by validation`, async () => {
    const runsDir = path.join(tmp, 'runs');
    const userPacksDir = path.join(tmp, 'user-packs');
    const shell: ShellServices = {
      appInfo: { mode: 'electron', version: 'fuzz', nativeDialogs: false, canSaveToPath: true },
      personal: { runsDir, userPacksDir, backbonePack: path.join(tmp, 'no-backbone'), spawnWorker: () => new MissingPairsWorker() as unknown as WorkerProcess },
    };
    const registered = new Map<string, (e: IpcMainInvokeEventLike, payload: unknown) => Promise<Result<unknown>>>();
    const handle = createHandle({ handle: (ch, fn) => registered.set(ch, fn as never) });
    for (const name of PERSONAL) handle(CHANNELS[name], SCHEMAS[name].request, (p) => dispatch(stack.host, shell, name, p));
    const event = { senderFrame: { url: APP_URL, parent: null } } as unknown as IpcMainInvokeEventLike;
    const pid = stack.host.pid;
    const r = new Prng(SEED);
    const tpl = templates(sandbox);
    let refused = 0;
    let accepted = 0;
    for (const name of PERSONAL) {
      const fn = registered.get(CHANNELS[name])!;
      for (let i = 0; i < IPC_N; i++) {
        const payload = fuzzPayload(r, tpl[name]);
        const expectOk = SCHEMAS[name].request.safeParse(payload ?? {}).success;
        const res = await fn(event, payload);
        if (!expectOk) {
          refused++;
          if (res.ok || res.error.code !== 'invalid-request') throw new Error(`${name} #${i} (seed ${SEED}) was not refused: ${JSON.stringify(res).slice(0, 300)}`);
        } else {
          accepted++;
          if (!res.ok && res.error.code === 'internal') throw new Error(`${name} #${i} (seed ${SEED}) answered internal: ${res.error.message}`);
        }
      }
    }
    // let the doubles' exits land before looking at what was left behind
    await new Promise((res) => setTimeout(res, 50));
    console.log(`[faults] personal IPC fuzz: ${PERSONAL.length * IPC_N} payloads (${refused} refused, ${accepted} schema-valid, ${MissingPairsWorker.spawned} worker starts answered by the double)`);
    expect(refused + accepted).toBe(PERSONAL.length * IPC_N);
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
    expect(prototypeFingerprint()).toBe(fingerprint);
    expect(stack.host.pid).toBe(pid);
    // nothing written where the payloads pointed, and no adapter pack appeared
    expect((await readdir(sandbox)).filter((f) => f !== 'out')).toEqual([]);
    expect(await readdir(userPacksDir).catch(() => [])).toEqual([]);
    const status = (await registered.get(CHANNELS.personalStatus)!(event, {})) as Result<{ runs: { active: boolean }[] }>;
    expect(status.ok && status.value.runs.every((run) => !run.active)).toBe(true);
  }, FULL ? 1_800_000 : 180_000);
});
