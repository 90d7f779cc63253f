/** Images the engine holds: opening a file or bytes, reading pixels back, releasing. */
import { z } from 'zod';
import { bytes, filePath, imageId, side } from './common.ts';

// ───────────────────────── openImage ─────────────────────────

export const openImageRequest = z.discriminatedUnion('source', [
  z.object({ source: z.literal('path'), path: filePath }).strict(),
  /** Drag-and-drop, paste, web upload: the encoded file bytes. */
  z
    .object({
      source: z.literal('bytes'),
      bytes,
      name: z.string().max(255).optional(),
    })
    .strict(),
]);
export type OpenImageRequest = z.infer<typeof openImageRequest>;

export const imageMetadata = z.object({
  name: z.string(),
  format: z.string(),
  bitDepth: z.union([z.literal(8), z.literal(16)]),
  channels: z.number().int().min(1).max(4),
  hasAlpha: z.boolean(),
  /** The source carried an ICC profile (converted to sRGB on decode). */
  hadIcc: z.boolean(),
  /** EXIF orientation of the source (already applied to the pixels). */
  orientation: z.number().int().min(1).max(8).optional(),
  /** The source carried EXIF/XMP metadata (kept on save only when asked). */
  hasMetadata: z.boolean(),
  fileBytes: z.number().int().nonnegative().optional(),
  /** What the import did that the user should know (only the first frame of an animation, CMYK → sRGB, …). */
  notes: z.array(z.string().max(500)).max(16).optional(),
});
export type ImageMetadata = z.infer<typeof imageMetadata>;

export const openImageResponse = z.object({
  imageId,
  width: side,
  height: side,
  metadata: imageMetadata,
});
export type OpenImageResponse = z.infer<typeof openImageResponse>;

// ───────────────────────── getImagePixels / releaseImage ─────────────────────────

export const getImagePixelsRequest = z
  .object({
    imageId,
    /** Downscale so that the longer side is at most this (preview); omitted = full size. */
    maxSide: side.optional(),
  })
  .strict();
export const imagePixels = z.object({
  imageId,
  width: side,
  height: side,
  /** Row-major RGBA, 8 bits per channel, width·height·4 bytes. */
  rgba: bytes,
});
export type ImagePixels = z.infer<typeof imagePixels>;

export const releaseImageRequest = z.object({ imageId }).strict();
export const releaseImageResponse = z.object({ released: z.boolean() });
