/** Writing an image: saving to a path (atomic, originals kept) or encoding to bytes. */
import { z } from 'zod';
import { bytes, filePath, imageId } from './common.ts';

export const imageFormat = z.enum(['png', 'jpeg', 'webp', 'tiff', 'avif']);
export type ImageFormat = z.infer<typeof imageFormat>;

const encodeOptions = {
  imageId,
  format: imageFormat,
  /** Lossy formats only; 1..100. */
  quality: z.number().int().min(1).max(100).default(95),
  /** Keep EXIF/ICC of the source; off by default (privacy: GPS etc.). */
  keepMetadata: z.boolean().default(false),
  /** 16 bits per channel where the format allows it and the image has it. */
  bitDepth: z.union([z.literal(8), z.literal(16)]).default(8),
};

export const saveImageRequest = z
  .object({
    ...encodeOptions,
    path: filePath,
    /** Off by default: an existing file is never replaced unless asked for. */
    overwrite: z.boolean().default(false),
    /**
     * The user confirmed, on its own, replacing a file that is open as an original (the engine
     * decides which files those are). Its bytes are kept (trash or backup folder) first.
     */
    replaceOriginal: z.boolean().default(false),
  })
  .strict();
export type SaveImageRequest = z.input<typeof saveImageRequest>;
export const saveImageResponse = z.object({
  path: z.string(),
  bytes: z.number().int().nonnegative(),
  /** Where the replaced original's exact bytes were kept. */
  keptOriginal: z.object({ place: z.enum(['trash', 'backup']), path: z.string() }).optional(),
});

/** Encode without touching the disk (web download, clipboard copy). */
export const encodeImageRequest = z.object(encodeOptions).strict();
export type EncodeImageRequest = z.input<typeof encodeImageRequest>;
export const encodeImageResponse = z.object({ bytes, mime: z.string() });
