/**
 * The renderer's one door to the engine. In Electron the preload exposes `window.codi`; in web
 * mode (served by electron/web/server.ts) the same CodiApi runs over a WebSocket to the page's
 * own origin. Everything else in the renderer receives the client from here.
 */
import type { CodiApi } from '../../../electron/contract/api.ts';
import type { LinkState } from './wsClient.ts';
import { createWebSocketApi } from './wsClient.ts';

export type { CodiApi, Result } from '../../../electron/contract/api.ts';
export type {
  AppInfo, BatchProgress, CodiEvent, StartBatchRequest, EngineState, EngineStatus, ErrorCode, ErrorInfo, ImageFormat, ImagePixels, JobDone, JobFailed,
  JobProgress, ListPacksResponse, OpenImageResponse, PackInfo, RunToolRequest, HubRepoSummary, HubSettings, PullProgress, VerifyPackResponse,
} from '../../../electron/contract/schemas.ts';
export type { LinkState } from './wsClient.ts';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in a plain browser. */
    codi?: CodiApi;
  }
}

/** Path of the web server's WebSocket endpoint (same origin as the page). */
export const WS_PATH = '/ws';

export interface EngineConnection {
  readonly api: CodiApi;
  readonly transport: 'ipc' | 'websocket';
  /** Transport link changes (WebSocket only; IPC is always 'open'). */
  onLink(listener: (s: LinkState) => void): () => void;
}

export function wsUrlFor(loc: { protocol: string; host: string }): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  // No token in the URL: the handshake carries the HttpOnly session cookie the server set
  // when the page was first loaded.
  return `${scheme}//${loc.host}${WS_PATH}`;
}

export function connectEngine(win: Window = window): EngineConnection {
  const linkListeners = new Set<(s: LinkState) => void>();
  if (win.codi) {
    return { api: win.codi, transport: 'ipc', onLink: () => () => {} };
  }
  const api = createWebSocketApi({
    url: wsUrlFor(win.location),
    onLinkState: (s) => {
      for (const l of linkListeners) l(s);
    },
  });
  return {
    api,
    transport: 'websocket',
    onLink(listener) {
      linkListeners.add(listener);
      listener(api.link);
      return () => linkListeners.delete(listener);
    },
  };
}
