/** The object behind `window.codi`: plain functions over ipcRenderer, one per channel. */
import type { CodiApi, CodiRequests, Result } from '../contract/api.ts';
import { CHANNELS, EVENT_CHANNEL } from '../contract/channels.ts';
import type { ChannelName } from '../contract/channels.ts';
import type { CodiEvent } from '../contract/schemas.ts';
import type { IpcRendererLike } from '../main/electron-types.ts';

export function buildPreloadApi(ipc: IpcRendererLike): CodiApi {
  const methods = {} as Record<ChannelName, (req: unknown) => Promise<Result<unknown>>>;
  for (const name of Object.keys(CHANNELS) as ChannelName[]) {
    const channel = CHANNELS[name];
    methods[name] = (req) => ipc.invoke(channel, req ?? {}) as Promise<Result<unknown>>;
  }
  return {
    ...(methods as unknown as CodiRequests),
    onEvent(listener: (event: CodiEvent) => void): () => void {
      // Never hand the IpcRendererEvent (and with it ipcRenderer) to page code.
      const wrapped = (_event: unknown, payload: unknown) => listener(payload as CodiEvent);
      ipc.on(EVENT_CHANNEL, wrapped);
      return () => ipc.removeListener(EVENT_CHANNEL, wrapped);
    },
  };
}
