/**
 * CodiApi on top of EngineHost plus the shell's own channels (app info, native dialogs).
 * Electron main, the web server and the CLI all dispatch through {@link dispatch}, so request
 * validation and routing exist once.
 */
import { fail, ok, parseRequest } from '../contract/api.ts';
import type { CodiApi, CodiRequests, Result } from '../contract/api.ts';
import { BROKER_CHANNELS, CHANNELS, PERSONAL_CHANNELS, SESSION_CHANNELS, SHELL_ONLY_CHANNELS } from '../contract/channels.ts';
import type { AutosaveStore } from './autosave.ts';
import type { ChannelName } from '../contract/channels.ts';
import type { AppInfo, ParsedRequestOf, ResponseOf } from '../contract/schemas.ts';
import type { EngineHost } from './engine-host.ts';
import { BatchManager } from './batch.ts';
import { defaultSaveFolder } from './config.ts';
import { personalOptionsFromEnv, PersonalManager } from './personal.ts';
import type { PersonalOptions } from './personal.ts';

/** One personal-adapter manager per engine host (runs folder and packs from the environment unless the shell sets them). */
const personals = new WeakMap<EngineHost, PersonalManager>();

function personalOf(host: EngineHost, shell: ShellServices): PersonalManager {
  let m = personals.get(host);
  if (!m) {
    m = new PersonalManager({
      ...personalOptionsFromEnv(),
      ...shell.personal,
      publish: (e) => host.publish(e),
      rescanPacks: async () => {
        await host.request('listPacks', { rescan: true });
      },
    });
    personals.set(host, m);
  }
  return m;
}

/** One batch manager per engine host, driving the engine through the same routing. */
const batches = new WeakMap<EngineHost, BatchManager>();

function batchesOf(host: EngineHost, shell: ShellServices): BatchManager {
  let m = batches.get(host);
  if (!m) {
    m = new BatchManager(createCodiApi(host, shell), (e) => host.publish(e));
    batches.set(host, m);
  }
  return m;
}

/** What the hosting shell provides besides the engine. */
export interface ShellServices {
  appInfo: AppInfo;
  /** Native dialogs; absent in web mode and the CLI (the calls then fail with 'unsupported'). */
  pickOpenPath?(): Promise<string | null>;
  pickSavePath?(req: ParsedRequestOf<'pickSavePath'>): Promise<string | null>;
  /** Where the editing session is autosaved; absent = no session recovery (the calls fail with 'unsupported'). */
  autosave?: AutosaveStore;
  /** Personal adapters: where runs and user packs live (default: CODI_USER_DATA, CODI_USER_PACKS, CODI_PACKS). */
  personal?: { runsDir?: string; userPacksDir?: string; backbonePack?: string; spawnWorker?: PersonalOptions['spawnWorker'] };
}

async function autosave(shell: ShellServices, channel: ChannelName, payload: unknown): Promise<Result<unknown>> {
  const parsed = parseRequest(channel, payload);
  if (!parsed.ok) return parsed;
  const store = shell.autosave;
  if (!store) return fail('unsupported', 'session recovery is not available here');
  try {
    if (channel === 'writeAutosave') return ok({ bytes: await store.write((parsed.value as ParsedRequestOf<'writeAutosave'>).session) });
    if (channel === 'readAutosave') return ok({ session: await store.read() });
    return ok({ cleared: await store.clear() });
  } catch (err) {
    return fail('io', `could not ${channel === 'clearAutosave' ? 'clear' : 'write'} the autosave in ${store.dir}: ${(err as Error).message}`);
  }
}

/** Route one untrusted request (channel name + payload) to the shell or the engine. */
export async function dispatch(host: EngineHost, shell: ShellServices, channel: ChannelName, payload: unknown): Promise<Result<unknown>> {
  if ((BROKER_CHANNELS as readonly string[]).includes(channel)) return batchesOf(host, shell).handle(channel, payload);
  if ((SESSION_CHANNELS as readonly string[]).includes(channel)) return autosave(shell, channel, payload);
  if ((PERSONAL_CHANNELS as readonly string[]).includes(channel)) return personalOf(host, shell).handle(channel, payload);
  if (!(SHELL_ONLY_CHANNELS as readonly string[]).includes(channel)) {
    return host.request(channel, payload as never);
  }
  const parsed = parseRequest(channel, payload);
  if (!parsed.ok) return parsed;
  switch (channel) {
    case 'getAppInfo':
      return ok(shell.appInfo.saveFolder ? shell.appInfo : { ...shell.appInfo, saveFolder: defaultSaveFolder() });
    case 'pickOpenPath':
      if (!shell.pickOpenPath) return fail('unsupported', 'native file dialogs are only available in the desktop app');
      return ok({ path: await shell.pickOpenPath() });
    case 'pickSavePath':
      if (!shell.pickSavePath) return fail('unsupported', 'native file dialogs are only available in the desktop app');
      return ok({ path: await shell.pickSavePath(parsed.value as ParsedRequestOf<'pickSavePath'>) });
    default:
      return fail('invalid-request', `unknown channel ${channel}`);
  }
}

/** An in-process CodiApi (CLI, tests): the same routing as the IPC and WebSocket paths. */
export function createCodiApi(host: EngineHost, shell: ShellServices): CodiApi {
  const requests = {} as Record<ChannelName, (req: unknown) => Promise<Result<unknown>>>;
  for (const name of Object.keys(CHANNELS) as ChannelName[]) {
    requests[name] = (req) => dispatch(host, shell, name, req);
  }
  return {
    ...(requests as unknown as CodiRequests),
    onEvent: (listener) => host.onEvent(listener),
  };
}

export type { ResponseOf };
