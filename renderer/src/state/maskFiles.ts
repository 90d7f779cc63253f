/**
 * Mask pictures in and out: a grey PNG (white = fill) to save, and a loaded picture (grey, or a
 * cut-out with alpha) turned into the document's mask under core's size rule, the engine's too.
 */
import { maskToRgba, rgbaToMask } from '../editor/maskPng.ts';
import { maskFit, resizeMask } from '../../../core/image/mask-size.ts';
import { encodePng } from './encodePng.ts';

interface Sized {
  readonly width: number;
  readonly height: number;
}

/** A decoded picture's RGBA pixels. */
export interface Picture extends Sized {
  readonly rgba: Uint8ClampedArray;
}

/** The mask `pic` gives a document of size `doc`, or why it cannot (both sizes named). */
export function maskFromPicture(pic: Picture, doc: Sized): { ok: true; mask: Uint8Array; note: string | null } | { ok: false; message: string } {
  const fit = maskFit(pic, doc);
  if (fit.kind === 'refuse') return { ok: false, message: `Mask not loaded: ${fit.message}.` };
  const own = rgbaToMask(pic.rgba, pic.width, pic.height);
  return fit.kind === 'scale' ? { ok: true, mask: resizeMask(own, pic, doc), note: fit.note } : { ok: true, mask: own, note: null };
}

/** The browser's decode of a picture file; null when it is not a picture. */
export async function decodePicture(blob: Blob): Promise<Picture | null> {
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(blob);
  } catch {
    return null;
  }
  const c = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = c.getContext('2d');
  if (!ctx) {
    bmp.close();
    return null;
  }
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  return { width: c.width, height: c.height, rgba: ctx.getImageData(0, 0, c.width, c.height).data };
}

/** The mask as a grey PNG (white = fill). */
export function maskPng(mask: Uint8Array, size: Sized): Promise<Uint8Array> {
  return encodePng({ width: size.width, height: size.height, data: maskToRgba(mask, size.width, size.height) });
}
