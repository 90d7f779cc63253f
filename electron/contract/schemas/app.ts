/** The shell's channels: what the app is (getAppInfo) and the native file dialogs (Electron only). */
import { z } from 'zod';
import { imageFormat } from './files.ts';

// ───────────────────────── getAppInfo ─────────────────────────

export const getAppInfoRequest = z.object({}).strict();
export const appInfo = z.object({
  mode: z.enum(['electron', 'web', 'cli']),
  version: z.string(),
  /** True when pickOpenPath / pickSavePath open native dialogs. */
  nativeDialogs: z.boolean(),
  /** True when saveImage may write to a path (always, except in a future remote web mode). */
  canSaveToPath: z.boolean(),
  /**
   * Absolute folder for a new file when the image's own folder is unknown (dropped, pasted or
   * uploaded in web mode): a relative name would land in the server's working folder.
   */
  saveFolder: z.string().max(4096).optional(),
});
export type AppInfo = z.infer<typeof appInfo>;

// ───────────────────────── native dialogs (Electron shell only) ─────────────────────────

export const pickOpenPathRequest = z.object({}).strict();
export const pickSavePathRequest = z
  .object({ defaultName: z.string().max(255).optional(), format: imageFormat.optional() })
  .strict();
export const pickPathResponse = z.object({ path: z.string().nullable() });
