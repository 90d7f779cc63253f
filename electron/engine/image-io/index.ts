// Image files in and out of the engine: decode (untrusted bytes → upright sRGB pixels), encode
// (pixels → file bytes with the metadata and colour tagging the user chose), atomic save.
export { decodeImage, DEFAULT_MAX_PIXELS } from './decode.ts';
export type { DecodeOptions } from './decode.ts';
export { encodeImage, encodeImageDetailed } from './encode.ts';
export type { EncodeOptions, EncodeResult, IccMode } from './encode.ts';
export { writeFileAtomic } from './atomic-write.ts';
export type { AtomicWriteIo, AtomicWriteOptions } from './atomic-write.ts';
export { saveImage, formatFromPath, sameFile } from './save.ts';
export { keepOriginal, homeTrashDir, BACKUP_FOLDER } from './keep-original.ts';
export type { KeepOriginalOptions, KeptOriginal } from './keep-original.ts';
export type { SaveOptions, SaveResult } from './save.ts';
export { AtomicWriteError, ImageDecodeError, ImageEncodeError } from './errors.ts';
export type { ImageDecodeErrorCode, ImageEncodeErrorCode, WriteErrorCode } from './errors.ts';
export type { DecodedImage, ImageFormat, ImageMetadata, OutputFormat, RgbImage, SourceInfo } from './types.ts';
