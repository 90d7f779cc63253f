/**
 * The only way main registers IPC handlers: `handle(channel, schema, fn)` checks the sender
 * frame first, then validates the payload with the contract schema, and always answers with
 * a Result (Electron would keep only an Error's message).
 */
import { fail } from '../contract/api.ts';
import type { Result } from '../contract/api.ts';
import type { z } from 'zod';
import type { IpcMainInvokeEventLike, IpcMainLike } from './electron-types.ts';
import { isTrustedSender } from './security.ts';

export type Handle = <S extends z.ZodType>(
  channel: string,
  schema: S,
  fn: (payload: z.output<S>) => Promise<Result<unknown>>,
) => void;

/** Build the `handle` wrapper around ipcMain; refusals are reported through `onRefused`. */
export function createHandle(ipcMain: IpcMainLike, onRefused: (channel: string, why: string) => void = () => {}): Handle {
  return (channel, schema, fn) => {
    ipcMain.handle(channel, async (event: IpcMainInvokeEventLike, payload: unknown): Promise<Result<unknown>> => {
      if (!isTrustedSender(event.senderFrame)) {
        onRefused(channel, `untrusted sender ${event.senderFrame?.url ?? '(no frame)'}`);
        return fail('forbidden', 'this frame may not call the app');
      }
      const parsed = schema.safeParse(payload ?? {});
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        const where = first?.path.length ? first.path.map(String).join('.') : '(payload)';
        return fail('invalid-request', `${channel}: ${where}: ${first?.message ?? 'invalid'}`);
      }
      try {
        return await fn(parsed.data);
      } catch (err) {
        return fail('internal', (err as Error)?.message ?? String(err));
      }
    });
  };
}
