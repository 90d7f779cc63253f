/**
 * The slice of Electron's API that main and preload use, declared locally so the code
 * typechecks and its plain functions test without the electron package (an optional
 * dependency whose binary cannot be installed offline). At run time the real module is
 * loaded with `loadElectron()`; these shapes follow Electron's documented signatures.
 */
import { createRequire } from 'node:module';

export interface WebFrameMainLike {
  url: string;
  parent: WebFrameMainLike | null;
}

export interface IpcMainInvokeEventLike {
  senderFrame: WebFrameMainLike | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown): void;
}

export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void;
  on(event: 'will-navigate' | 'will-redirect', listener: (event: { preventDefault(): void }, url: string) => void): void;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  isDestroyed(): boolean;
}

export interface BrowserWindowLike {
  webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  on(event: 'closed', listener: () => void): void;
  isDestroyed(): boolean;
}

export interface WebPreferencesLike {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInSubFrames: false;
  nodeIntegrationInWorker: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  experimentalFeatures: false;
  webviewTag: false;
  spellcheck: false;
}

export interface BrowserWindowOptionsLike {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  backgroundColor: string;
  webPreferences: WebPreferencesLike;
}

export interface UtilityProcessLike {
  pid: number | undefined;
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  kill(): boolean;
}

export interface SessionLike {
  setPermissionRequestHandler(handler: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: () => boolean): void;
}

export interface ElectronMainLike {
  app: {
    whenReady(): Promise<void>;
    on(event: 'window-all-closed' | 'before-quit' | 'activate', listener: () => void): void;
    on(event: 'web-contents-created', listener: (e: unknown, contents: WebContentsLike) => void): void;
    quit(): void;
    getPath(name: 'userData'): string;
    getVersion(): string;
    isPackaged: boolean;
    requestSingleInstanceLock(): boolean;
  };
  BrowserWindow: new (options: BrowserWindowOptionsLike) => BrowserWindowLike & {
    once(event: 'ready-to-show', listener: () => void): void;
    show(): void;
  };
  ipcMain: IpcMainLike;
  protocol: {
    registerSchemesAsPrivileged(
      schemes: { scheme: string; privileges: { standard: boolean; secure: boolean; supportFetchAPI: boolean; codeCache?: boolean } }[],
    ): void;
    handle(scheme: string, handler: (request: { url: string; method: string }) => Response | Promise<Response>): void;
  };
  dialog: {
    showOpenDialog(
      win: BrowserWindowLike | undefined,
      options: { properties: string[]; filters: { name: string; extensions: string[] }[] },
    ): Promise<{ canceled: boolean; filePaths: string[] }>;
    showSaveDialog(
      win: BrowserWindowLike | undefined,
      options: { defaultPath?: string; filters: { name: string; extensions: string[] }[] },
    ): Promise<{ canceled: boolean; filePath?: string }>;
  };
  session: { defaultSession: SessionLike };
  /** The OS keychain's encryption (the Hub token is kept with it). */
  safeStorage: { isEncryptionAvailable(): boolean; getSelectedStorageBackend?(): string; encryptString(plain: string): Buffer; decryptString(encrypted: Buffer): string };
  utilityProcess: {
    fork(
      modulePath: string,
      args: string[],
      options: { serviceName: string; env: NodeJS.ProcessEnv; stdio: 'inherit' | 'ignore' | 'pipe' },
    ): UtilityProcessLike;
  };
}

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
}

export interface ElectronPreloadLike {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: IpcRendererLike;
}

/** Load the real Electron module (main process only). */
export function loadElectron(): ElectronMainLike {
  return createRequire(import.meta.url)('electron') as ElectronMainLike;
}
