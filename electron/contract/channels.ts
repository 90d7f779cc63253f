/**
 * THE channel table of CoDi Studio: every request kind and the one server that answers it.
 * The same names are used by Electron IPC (ipcMain.handle / ipcRenderer.invoke), by the
 * web-mode WebSocket protocol and by the broker↔engine protocol, so this table decides what
 * may cross a process boundary and who answers. Everything else (the broker's routing, the
 * engine host's forwarding, the engine's handler set, the preload's methods, the web server's
 * dispatch, the renderer's WebSocket client) is derived from it, so a new channel is one line
 * here, its schemas (schemas.ts) and its handler in the server named here.
 *
 * Plain data with no imports: the renderer's bundle imports it as a value (see eslint.config.js).
 */

/**
 * Who answers a channel. `engine` is the engine process (images, packs, jobs); the others run
 * in the broker: `shell` is what the hosting shell provides (app info, native dialogs),
 * `batch` the folder batch runner, `autosave` session recovery, `personal` the
 * personal-adapter trainer and adapter files, `models` the model manager (packs pulled from the
 * Hugging Face Hub, removed, verified; the Hub's address and token).
 */
export const SERVERS = ['engine', 'shell', 'batch', 'autosave', 'personal', 'models'] as const;
export type ChannelServer = (typeof SERVERS)[number];

/** Each channel's short name → the server that answers it (exactly one, by construction). */
export const CHANNEL_TABLE = {
  getAppInfo: 'shell',
  listPacks: 'engine',
  openImage: 'engine',
  getImagePixels: 'engine',
  releaseImage: 'engine',
  runTool: 'engine',
  cancelJob: 'engine',
  jobStatus: 'engine',
  saveImage: 'engine',
  encodeImage: 'engine',
  pickOpenPath: 'shell',
  pickSavePath: 'shell',
  startBatch: 'batch',
  pauseBatch: 'batch',
  resumeBatch: 'batch',
  cancelBatch: 'batch',
  writeAutosave: 'autosave',
  readAutosave: 'autosave',
  clearAutosave: 'autosave',
  personalPreflight: 'personal',
  personalStart: 'personal',
  personalPause: 'personal',
  personalResume: 'personal',
  personalCancel: 'personal',
  personalStatus: 'personal',
  exportAdapter: 'personal',
  importAdapter: 'personal',
  describeHubRepo: 'models',
  startPull: 'models',
  cancelPull: 'models',
  removePack: 'models',
  verifyPack: 'models',
  getHubSettings: 'models',
  setHubSettings: 'models',
} as const satisfies Record<string, ChannelServer>;

/** The request kinds, keyed by their short name (`'runTool'`, …). */
export type ChannelName = keyof typeof CHANNEL_TABLE;
/** The channels one server answers. */
export type ChannelOf<S extends ChannelServer> = { [C in ChannelName]: (typeof CHANNEL_TABLE)[C] extends S ? C : never }[ChannelName];

/** The wire string of each channel: its short name under the `codi:` prefix. */
export const CHANNELS = Object.fromEntries(Object.keys(CHANNEL_TABLE).map((name) => [name, `codi:${name}`])) as {
  readonly [C in ChannelName]: `codi:${C}`;
};
/** The wire string of a channel (`'codi:runTool'`, …). */
export type ChannelId = (typeof CHANNELS)[ChannelName];

/** Every channel name, in table order. */
export const CHANNEL_NAMES = Object.keys(CHANNEL_TABLE) as ChannelName[];

/** The one push channel: every engine → UI event travels on it as a tagged union. */
export const EVENT_CHANNEL = 'codi:event' as const;

const byId = new Map<string, ChannelName>(CHANNEL_NAMES.map((name) => [CHANNELS[name], name]));

/** Map a wire string back to its channel name; undefined for anything not in the table. */
export function channelNameOf(id: string): ChannelName | undefined {
  return byId.get(id);
}

/** Whether an untrusted string is a channel's short name (own keys only: not `constructor`, …). */
export function isChannelName(name: unknown): name is ChannelName {
  return typeof name === 'string' && Object.hasOwn(CHANNEL_TABLE, name);
}

/** The server that answers a channel. */
export function serverOf(channel: ChannelName): ChannelServer {
  return CHANNEL_TABLE[channel];
}

/** The channels one server answers, in table order. */
export function channelsServedBy<S extends ChannelServer>(server: S): ChannelOf<S>[] {
  return CHANNEL_NAMES.filter((name): name is ChannelOf<S> => CHANNEL_TABLE[name] === server);
}

/** Whether `channel` is answered by `server` (narrows the channel's type). */
export function isServedBy<S extends ChannelServer>(channel: ChannelName, server: S): channel is ChannelOf<S> {
  return CHANNEL_TABLE[channel] === server;
}
