/**
 * CodiApi on top of EngineHost plus the broker's own servers (the shell's app info and native
 * dialogs, batches, autosave, personal adapters, the model manager). Electron main, the web server and the CLI all
 * dispatch through {@link dispatch}, which routes by the contract's channel table, so request
 * validation and routing exist once.
 */
import { fail, ok, serve } from '../contract/api.ts';
import type { CodiApi, CodiRequests, Result, ServerHandlers } from '../contract/api.ts';
import { CHANNEL_NAMES, serverOf } from '../contract/channels.ts';
import type { AutosaveStore } from './autosave.ts';
import type { ChannelName, ChannelOf, ChannelServer } from '../contract/channels.ts';
import type { AppInfo, ParsedRequestOf, ResponseOf } from '../contract/schemas.ts';
import type { EngineHost } from './engine-host.ts';
import { BatchManager } from './batch.ts';
import { defaultSaveFolder, modelsOptionsFromEnv } from './config.ts';
import { defaultHubClient } from './hub-client.ts';
import { HubConfig, sessionVault } from './hub-settings.ts';
import type { TokenVault } from './hub-settings.ts';
import { ModelManager } from './models.ts';
import type { HubClient } from './models.ts';
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

/** One model manager per engine host: pulls, removals and the Hub settings of this app. */
const models = new WeakMap<EngineHost, ModelManager>();

function modelsOf(host: EngineHost, shell: ShellServices): ModelManager {
  let m = models.get(host);
  if (!m) {
    const fromEnv = modelsOptionsFromEnv();
    const own = shell.models ?? {};
    m = new ModelManager({
      userPacksDir: own.userPacksDir ?? fromEnv.userPacksDir,
      bundledPacksDir: own.bundledPacksDir ?? fromEnv.bundledPacksDir,
      config: new HubConfig({ vault: own.vault ?? sessionVault(), settingsFile: own.settingsFile !== undefined ? own.settingsFile : fromEnv.settingsFile }),
      hub: own.hub ?? defaultHubClient,
      publish: (e) => host.publish(e),
      rescanPacks: async () => {
        await host.request('listPacks', { rescan: true });
      },
    });
    models.set(host, m);
  }
  return m;
}

/** The model manager of a host, for the shell's shutdown (stops running pulls). */
export function modelManagerOf(host: EngineHost, shell: ShellServices): ModelManager {
  return modelsOf(host, shell);
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
  /**
   * The model manager: where pulled packs go, where the Hub token is kept (default: the broker's
   * memory for this session) and the settings file (null = not kept); defaults from the
   * environment (CODI_USER_PACKS, CODI_PACKS, CODI_USER_DATA). `hub` swaps the Hub client (tests).
   */
  models?: { userPacksDir?: string; bundledPacksDir?: string; vault?: TokenVault; settingsFile?: string | null; hub?: HubClient };
}

/** The shell's channels: app info and the native dialogs (absent in web mode and the CLI). */
export function shellHandlers(shell: ShellServices): ServerHandlers<'shell'> {
  const noDialogs = () => fail('unsupported', 'native file dialogs are only available in the desktop app');
  return {
    getAppInfo: async () => ok(shell.appInfo.saveFolder ? shell.appInfo : { ...shell.appInfo, saveFolder: defaultSaveFolder() }),
    pickOpenPath: async () => (shell.pickOpenPath ? ok({ path: await shell.pickOpenPath() }) : noDialogs()),
    pickSavePath: async (req) => (shell.pickSavePath ? ok({ path: await shell.pickSavePath(req) }) : noDialogs()),
  };
}

/** Session recovery: the editing session's autosave, kept by the shell's store. */
export function autosaveHandlers(shell: ShellServices): ServerHandlers<'autosave'> {
  const withStore = async <T>(verb: string, fn: (store: AutosaveStore) => Promise<T>): Promise<Result<T>> => {
    const store = shell.autosave;
    if (!store) return fail('unsupported', 'session recovery is not available here');
    try {
      return ok(await fn(store));
    } catch (err) {
      return fail('io', `could not ${verb} the autosave in ${store.dir}: ${(err as Error).message}`);
    }
  };
  return {
    writeAutosave: (req) => withStore('write', async (store) => ({ bytes: await store.write(req.session) })),
    readAutosave: () => withStore('read', async (store) => ({ session: await store.read() })),
    clearAutosave: () => withStore('clear', async (store) => ({ cleared: await store.clear() })),
  };
}

/** How the broker reaches each server of the contract's table: the engine process or one of its own parts. */
type Route<S extends ChannelServer> = (host: EngineHost, shell: ShellServices, channel: ChannelOf<S>, payload: unknown) => Promise<Result<unknown>>;
const ROUTES: { [S in ChannelServer]: Route<S> } = {
  engine: (host, _shell, channel, payload) => host.request(channel, payload as never),
  shell: (_host, shell, channel, payload) => serve(shellHandlers(shell), channel, payload),
  batch: (host, shell, channel, payload) => batchesOf(host, shell).handle(channel, payload),
  autosave: (_host, shell, channel, payload) => serve(autosaveHandlers(shell), channel, payload),
  personal: (host, shell, channel, payload) => personalOf(host, shell).handle(channel, payload),
  models: (host, shell, channel, payload) => modelsOf(host, shell).handle(channel, payload),
};

/** Route one untrusted request (channel name + payload) to the server the channel table names. */
export async function dispatch(host: EngineHost, shell: ShellServices, channel: ChannelName, payload: unknown): Promise<Result<unknown>> {
  const route = ROUTES[serverOf(channel)] as Route<ChannelServer>;
  return route(host, shell, channel, payload);
}

/** An in-process CodiApi (CLI, tests): the same routing as the IPC and WebSocket paths. */
export function createCodiApi(host: EngineHost, shell: ShellServices): CodiApi {
  const requests = {} as Record<ChannelName, (req: unknown) => Promise<Result<unknown>>>;
  for (const name of CHANNEL_NAMES) {
    requests[name] = (req) => dispatch(host, shell, name, req);
  }
  return {
    ...(requests as unknown as CodiRequests),
    onEvent: (listener) => host.onEvent(listener),
  };
}

export type { ResponseOf };
