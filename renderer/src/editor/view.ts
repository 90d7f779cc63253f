/**
 * View transform between screen (CSS pixels of the canvas element) and image pixels:
 *   screen = image · zoom + pan
 * Pure functions over an immutable value so the UI can keep it in $state.raw and tests can
 * check the maths without a DOM.
 */
export interface View {
  readonly zoom: number;
  readonly panX: number;
  readonly panY: number;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export const MIN_ZOOM = 1 / 64;
export const MAX_ZOOM = 64;
/** Empty border kept around a fitted image, in screen pixels. */
export const FIT_MARGIN = 16;

export const identityView: View = { zoom: 1, panX: 0, panY: 0 };

export function clampZoom(z: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z));
}

export function screenToImage(v: View, p: Point): Point {
  return { x: (p.x - v.panX) / v.zoom, y: (p.y - v.panY) / v.zoom };
}

export function imageToScreen(v: View, p: Point): Point {
  return { x: p.x * v.zoom + v.panX, y: p.y * v.zoom + v.panY };
}

/** Zoom to `zoom` keeping the image point under `anchor` (screen coords) where it is. */
export function zoomAt(v: View, zoom: number, anchor: Point): View {
  const z = clampZoom(zoom);
  const img = screenToImage(v, anchor);
  return { zoom: z, panX: anchor.x - img.x * z, panY: anchor.y - img.y * z };
}

/**
 * Zoom factor for one wheel event. deltaMode 1 (lines) and 2 (pages) are converted to pixels
 * so a mouse wheel notch and a trackpad swipe of the same length zoom the same amount.
 */
export function wheelZoomFactor(deltaY: number, deltaMode = 0): number {
  const px = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  // exp keeps zoom-in then zoom-out by the same delta an exact round trip.
  return Math.exp(-px * 0.0015);
}

export function wheelZoom(v: View, deltaY: number, deltaMode: number, anchor: Point): View {
  return zoomAt(v, v.zoom * wheelZoomFactor(deltaY, deltaMode), anchor);
}

export function panBy(v: View, dx: number, dy: number): View {
  return { zoom: v.zoom, panX: v.panX + dx, panY: v.panY + dy };
}

/** Whole image visible and centred; never magnified above 100 % (small images stay pixel-exact). */
export function fitView(image: Size, viewport: Size, margin = FIT_MARGIN): View {
  if (image.width <= 0 || image.height <= 0) return identityView;
  const aw = Math.max(1, viewport.width - 2 * margin);
  const ah = Math.max(1, viewport.height - 2 * margin);
  const zoom = clampZoom(Math.min(1, aw / image.width, ah / image.height));
  return centred(image, viewport, zoom);
}

/** 100 %: one image pixel per CSS pixel, centred. */
export function actualSizeView(image: Size, viewport: Size): View {
  return centred(image, viewport, 1);
}

function centred(image: Size, viewport: Size, zoom: number): View {
  return {
    zoom,
    panX: Math.round((viewport.width - image.width * zoom) / 2),
    panY: Math.round((viewport.height - image.height * zoom) / 2),
  };
}

/** Visible part of the image in image pixels (may extend outside the image). */
export function visibleImageRect(v: View, viewport: Size): { x: number; y: number; width: number; height: number } {
  const a = screenToImage(v, { x: 0, y: 0 });
  return { x: a.x, y: a.y, width: viewport.width / v.zoom, height: viewport.height / v.zoom };
}
