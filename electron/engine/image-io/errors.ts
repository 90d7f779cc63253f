/** Why an image could not be decoded. */
export type ImageDecodeErrorCode =
  | 'empty'
  | 'not-found'
  | 'unreadable'
  | 'unsupported-format'
  | 'too-large'
  | 'truncated'
  | 'corrupt';

/** Typed decode failure: `code` for programs, `message` for people. Never thrown for valid images. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
  constructor(
    readonly code: ImageDecodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Why an image could not be encoded. */
export type ImageEncodeErrorCode = 'invalid-image' | 'invalid-options' | 'encoder-failed';

export class ImageEncodeError extends Error {
  override readonly name = 'ImageEncodeError';
  constructor(
    readonly code: ImageEncodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Why a file could not be written (or, for saveImage, why it was refused). */
export type WriteErrorCode =
  | 'exists'
  | 'is-source'
  | 'is-original'
  | 'no-space'
  | 'read-only'
  | 'permission'
  | 'not-found'
  | 'not-a-directory'
  | 'is-directory'
  | 'io';

export class AtomicWriteError extends Error {
  override readonly name = 'AtomicWriteError';
  constructor(
    readonly code: WriteErrorCode,
    /** The destination path. */
    readonly path: string,
    message: string,
    /** The operating-system error code (ENOSPC, EACCES…) when there was one. */
    readonly errno?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
