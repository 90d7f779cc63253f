/**
 * Electron main: a pure broker. It owns the window, the app:// protocol, native dialogs and
 * the EngineHost; all inference and image decoding happen in the engine utility process.
 * Bundled to dist/electron/main.cjs by bin/build-electron.mjs (next to preload.cjs, engine.cjs).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispatch, modelManagerOf } from '../broker/api.ts';
import { AutosaveStore } from '../broker/autosave.ts';
import type { ShellServices } from '../broker/api.ts';
import { EngineHost } from '../broker/engine-host.ts';
import { keychainVault } from '../broker/hub-settings.ts';
import { CHANNELS, EVENT_CHANNEL } from '../contract/channels.ts';
import type { ChannelName } from '../contract/channels.ts';
import { SCHEMAS } from '../contract/schemas.ts';
import type { EngineConfig } from '../engine/protocol.ts';
import { parseProviderList } from '../engine/providers.ts';
import type { BrowserWindowLike, ElectronMainLike } from './electron-types.ts';
import { loadElectron } from './electron-types.ts';
import { createHandle } from './ipc.ts';
import { appProtocolHandler, hardenSession, hardenWebContents } from './hardening.ts';
import { APP_SCHEME, APP_URL, mainWindowOptions } from './security.ts';
import { utilityEngineSpawner } from './utility-engine.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

const IMAGE_FILTERS = [{ name: 'Images', extensions: ['png', 'jpg', 'jpeg', 'webp', 'tif', 'tiff', 'avif', 'heic', 'heif', 'gif'] }];

async function run(electron: ElectronMainLike): Promise<void> {
  const { app, BrowserWindow, ipcMain, protocol, dialog, session, safeStorage } = electron;
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  await app.whenReady();

  const rendererRoot = await fs.realpath(path.resolve(here, '..', 'renderer'));
  const bundledPacks = app.isPackaged
    ? path.join((process as unknown as { resourcesPath: string }).resourcesPath, 'native-models')
    : path.resolve(here, '..', '..', 'native-models');
  const providers = parseProviderList(process.env.CODI_EP);
  const userPacks = path.join(app.getPath('userData'), 'packs');
  const config: EngineConfig = {
    packDirs: [
      { path: bundledPacks, source: 'bundled' },
      { path: userPacks, source: 'user' },
    ],
    ...(providers ? { providers } : {}),
  };
  const host = new EngineHost({ spawn: utilityEngineSpawner(electron, path.join(here, 'engine.cjs'), config) });
  void host.start();

  // app://codi/… → files of the built renderer only.
  protocol.handle(APP_SCHEME, appProtocolHandler(rendererRoot));

  // Deny every permission (camera, notifications, …) and every navigation or new window.
  hardenSession(session.defaultSession);
  app.on('web-contents-created', (_e, contents) => hardenWebContents(contents));

  let win: BrowserWindowLike | null = null;
  const shell: ShellServices = {
    appInfo: { mode: 'electron', version: app.getVersion(), nativeDialogs: true, canSaveToPath: true },
    autosave: new AutosaveStore(path.join(app.getPath('userData'), 'autosave')),
    // The Hub token in the OS keychain where safeStorage has one; otherwise for this session only.
    models: {
      userPacksDir: userPacks,
      bundledPacksDir: bundledPacks,
      vault: keychainVault(safeStorage, path.join(app.getPath('userData'), 'hub-token.bin')),
      settingsFile: path.join(app.getPath('userData'), 'hub-settings.json'),
    },
    pickOpenPath: async () => {
      const r = await dialog.showOpenDialog(win ?? undefined, { properties: ['openFile'], filters: IMAGE_FILTERS });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    pickSavePath: async (req) => {
      const ext = req.format === 'jpeg' ? 'jpg' : (req.format ?? 'png');
      const r = await dialog.showSaveDialog(win ?? undefined, {
        ...(req.defaultName ? { defaultPath: req.defaultName } : {}),
        filters: [{ name: ext.toUpperCase(), extensions: [ext] }],
      });
      return r.canceled ? null : (r.filePath ?? null);
    },
  };

  const handle = createHandle(ipcMain, (channel, why) => console.warn(`[ipc] refused ${channel}: ${why}`));
  for (const name of Object.keys(CHANNELS) as ChannelName[]) {
    handle(CHANNELS[name], SCHEMAS[name].request, (payload) => dispatch(host, shell, name, payload));
  }
  host.onEvent((e) => {
    if (win && !win.isDestroyed() && !win.webContents.isDestroyed()) win.webContents.send(EVENT_CHANNEL, e);
  });

  const createWindow = () => {
    const w = new BrowserWindow(mainWindowOptions(path.join(here, 'preload.cjs')));
    win = w;
    w.once('ready-to-show', () => w.show());
    w.on('closed', () => {
      win = null;
    });
    void w.loadURL(APP_URL);
  };
  createWindow();
  app.on('activate', () => {
    if (!win) createWindow();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => {
    // a pull stops and keeps its partial files for a later resume
    void modelManagerOf(host, shell).shutdown();
    void host.stop();
  });
}

void run(loadElectron()).catch((err: unknown) => {
  console.error('CoDi Studio failed to start:', err);
  process.exit(1);
});
