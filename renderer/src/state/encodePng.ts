import type { RgbaImage } from '../editor/document.ts';

/**
 * Lossless PNG of 8-bit RGBA pixels, encoded in the page: to hand an image back to a restarted
 * engine that lost it (job results are not replayed by the broker), and for "Save mask".
 */
export async function encodePng(img: RgbaImage): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas unavailable');
  ctx.putImageData(new ImageData(img.data as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return new Uint8Array(await blob.arrayBuffer());
}
