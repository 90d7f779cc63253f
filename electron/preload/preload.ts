/**
 * Preload (sandboxed, context-isolated): exposes `window.codi` implementing CodiApi with one
 * named method per contract channel, never ipcRenderer itself. Bundled to
 * dist/electron/preload.cjs; in a sandboxed preload only `require('electron')` is available.
 */
import type { CodiApi } from '../contract/api.ts';
import { buildPreloadApi } from './api.ts';
import type { ElectronPreloadLike } from '../main/electron-types.ts';

// A sandboxed preload is CommonJS with a fixed module list; `import` of electron is not possible.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { contextBridge, ipcRenderer } = require('electron') as ElectronPreloadLike;
const api: CodiApi = buildPreloadApi(ipcRenderer);
contextBridge.exposeInMainWorld('codi', api);
