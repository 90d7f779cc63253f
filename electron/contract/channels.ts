/**
 * Channel names of the CoDi Studio contract. The same names are used by Electron IPC
 * (ipcMain.handle / ipcRenderer.invoke), by the web-mode WebSocket protocol and by the
 * broker↔engine protocol, so one table decides what may cross a process boundary.
 */
export const CHANNELS = {
  getAppInfo: 'codi:getAppInfo',
  listPacks: 'codi:listPacks',
  openImage: 'codi:openImage',
  getImagePixels: 'codi:getImagePixels',
  releaseImage: 'codi:releaseImage',
  runTool: 'codi:runTool',
  cancelJob: 'codi:cancelJob',
  jobStatus: 'codi:jobStatus',
  saveImage: 'codi:saveImage',
  encodeImage: 'codi:encodeImage',
  pickOpenPath: 'codi:pickOpenPath',
  pickSavePath: 'codi:pickSavePath',
  startBatch: 'codi:startBatch',
  pauseBatch: 'codi:pauseBatch',
  resumeBatch: 'codi:resumeBatch',
  cancelBatch: 'codi:cancelBatch',
  writeAutosave: 'codi:writeAutosave',
  readAutosave: 'codi:readAutosave',
  clearAutosave: 'codi:clearAutosave',
  personalPreflight: 'codi:personalPreflight',
  personalStart: 'codi:personalStart',
  personalPause: 'codi:personalPause',
  personalResume: 'codi:personalResume',
  personalCancel: 'codi:personalCancel',
  personalStatus: 'codi:personalStatus',
  exportAdapter: 'codi:exportAdapter',
  importAdapter: 'codi:importAdapter',
} as const;

/** The request kinds, keyed by their short name (`'runTool'`, …). */
export type ChannelName = keyof typeof CHANNELS;
/** The wire string of a channel (`'codi:runTool'`, …). */
export type ChannelId = (typeof CHANNELS)[ChannelName];

/** The one push channel: every engine → UI event travels on it as a tagged union. */
export const EVENT_CHANNEL = 'codi:event' as const;

const byId = new Map<string, ChannelName>(Object.entries(CHANNELS).map(([k, v]) => [v, k as ChannelName]));

/** Map a wire string back to its channel name; undefined for anything not in the table. */
export function channelNameOf(id: string): ChannelName | undefined {
  return byId.get(id);
}

/** Channels that only the Electron shell can serve (native dialogs); the engine never sees them. */
export const SHELL_ONLY_CHANNELS: readonly ChannelName[] = ['pickOpenPath', 'pickSavePath', 'getAppInfo'];

/** Channels the broker serves itself (it drives the engine through its own requests). */
export const BROKER_CHANNELS: readonly ChannelName[] = ['startBatch', 'pauseBatch', 'resumeBatch', 'cancelBatch'];

/** Session recovery: the broker keeps the editing session's autosave under the user data folder. */
export const SESSION_CHANNELS: readonly ChannelName[] = ['writeAutosave', 'readAutosave', 'clearAutosave'];

/** Personal adapters: the broker runs the training worker and moves adapter files (electron/broker/personal.ts). */
export const PERSONAL_CHANNELS: readonly ChannelName[] = [
  'personalPreflight',
  'personalStart',
  'personalPause',
  'personalResume',
  'personalCancel',
  'personalStatus',
  'exportAdapter',
  'importAdapter',
];
