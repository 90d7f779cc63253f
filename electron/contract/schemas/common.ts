/** Pieces every area shares: ids, bytes, file paths, image sides, the error codes and the Result envelope. */
import { z } from 'zod';

/** Opaque id of an image held by the engine (opened images and job results share the space). */
export const imageId = z.string().regex(/^img_[A-Za-z0-9_-]{1,64}$/, 'not an image id');
export const jobId = z.string().regex(/^job_[A-Za-z0-9_-]{1,64}$/, 'not a job id');
export const packName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'not a pack name');
/** Bytes on the wire; Node's Buffer is a Uint8Array too. */
export const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected binary data (Uint8Array)' });
/** A local file path chosen by the user (absolute or relative to the engine's cwd for the CLI). */
export const filePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'path contains a NUL byte');

/** Largest side any image may have on the wire; the decoder enforces its own pixel limit too. */
export const MAX_IMAGE_SIDE = 32768;
/** One side of an image on the wire, in pixels. */
export const side = z.number().int().min(1).max(MAX_IMAGE_SIDE);

export const errorCode = z.enum([
  'invalid-request', // payload failed the schema
  'forbidden', // sender / origin not allowed
  'not-found', // unknown job, pack, file or condition image
  'image-gone', // the request's own imageId is no longer held (evicted, or the engine restarted): the sender may upload the pixels again
  'exists', // refusing to overwrite
  'is-original', // refusing to replace a file open as the original until that is confirmed on its own
  'unsupported', // not available in this mode (e.g. native dialogs in web mode)
  'pack-invalid', // pack failed verification
  'decode-failed',
  'io', // file system error
  'cancelled',
  'engine-crashed', // the engine process died during the request
  'engine-unavailable', // engine restarting / not started
  'busy', // queue full
  'internal',
]);
export type ErrorCode = z.infer<typeof errorCode>;

export const errorInfo = z.object({ code: errorCode, message: z.string().max(4000) });
export type ErrorInfo = z.infer<typeof errorInfo>;

/** `{ok: true, value} | {ok: false, error}`: errors cross IPC as data, never as thrown objects. */
export function resultOf<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: errorInfo }),
  ]);
}

export const executionProvider = z.enum(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
export type ExecutionProvider = z.infer<typeof executionProvider>;
