/** Session recovery: the editing session the renderer autosaves, and reading or clearing it. */
import { z } from 'zod';
import { bytes, side } from './common.ts';

/** Largest autosave the broker accepts (encoded image + mask). */
export const MAX_AUTOSAVE_BYTES = 512 * 1024 * 1024;

/** The editing session as the renderer saves it: what is needed to put it back after a crash. */
export const autosaveSession = z
  .object({
    /** Document name and the file it came from (null for pasted/dropped images). */
    name: z.string().max(255),
    path: z.string().max(4096).nullable(),
    width: side,
    height: side,
    /** When the renderer took the snapshot (ms since the epoch). */
    savedAt: z.number().int().nonnegative(),
    /** The current pixels, PNG. */
    image: bytes.refine((b) => b.byteLength > 0 && b.byteLength <= MAX_AUTOSAVE_BYTES, 'image must be 1 byte to 512 MiB'),
    /** The mask as a grey PNG (white = fill); omitted when nothing is painted. */
    mask: bytes.refine((b) => b.byteLength <= MAX_AUTOSAVE_BYTES, 'mask too large').optional(),
    /** History summary and tool settings as JSON text (the renderer's own shape). */
    state: z.string().max(65536),
  })
  .strict();
export type AutosaveSession = z.infer<typeof autosaveSession>;
export const writeAutosaveRequest = z.object({ session: autosaveSession }).strict();
export const writeAutosaveResponse = z.object({ bytes: z.number().int().nonnegative() });
export const readAutosaveRequest = z.object({}).strict();
export const readAutosaveResponse = z.object({ session: autosaveSession.nullable() });
export const clearAutosaveRequest = z.object({}).strict();
export const clearAutosaveResponse = z.object({ cleared: z.boolean() });
