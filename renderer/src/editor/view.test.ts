import { describe, it, expect } from 'vitest';
import {
  actualSizeView, clampZoom, fitView, imageToScreen, MAX_ZOOM, MIN_ZOOM, panBy, screenToImage,
  wheelZoom, wheelZoomFactor, zoomAt,
} from './view.ts';
import type { View } from './view.ts';
import { PanGesture } from './panGesture.ts';

const v0: View = { zoom: 2, panX: 30, panY: -10 };

describe('view transform', () => {
  it('screenToImage inverts imageToScreen', () => {
    const p = { x: 123.5, y: -7.25 };
    const back = screenToImage(v0, imageToScreen(v0, p));
    expect(back.x).toBeCloseTo(p.x, 10);
    expect(back.y).toBeCloseTo(p.y, 10);
    expect(imageToScreen(v0, { x: 10, y: 10 })).toEqual({ x: 50, y: 10 });
  });

  it('zoomAt keeps the image point under the cursor fixed', () => {
    const cursor = { x: 400, y: 250 };
    const before = screenToImage(v0, cursor);
    const v1 = zoomAt(v0, 5.5, cursor);
    expect(v1.zoom).toBe(5.5);
    const after = screenToImage(v1, cursor);
    expect(after.x).toBeCloseTo(before.x, 9);
    expect(after.y).toBeCloseTo(before.y, 9);
  });

  it('wheel zoom in then out by the same delta returns to the same view', () => {
    const cursor = { x: 17, y: 300 };
    const v1 = wheelZoom(wheelZoom(v0, -120, 0, cursor), 120, 0, cursor);
    expect(v1.zoom).toBeCloseTo(v0.zoom, 12);
    expect(v1.panX).toBeCloseTo(v0.panX, 9);
    expect(v1.panY).toBeCloseTo(v0.panY, 9);
  });

  it('wheel up zooms in, down zooms out, and line mode matches pixel mode', () => {
    expect(wheelZoomFactor(-100)).toBeGreaterThan(1);
    expect(wheelZoomFactor(100)).toBeLessThan(1);
    expect(wheelZoomFactor(3, 1)).toBeCloseTo(wheelZoomFactor(48, 0), 12);
  });

  it('zoom is clamped', () => {
    expect(clampZoom(1e9)).toBe(MAX_ZOOM);
    expect(clampZoom(0)).toBe(MIN_ZOOM);
    expect(zoomAt(v0, 1e6, { x: 0, y: 0 }).zoom).toBe(MAX_ZOOM);
  });

  it('fit shows the whole image centred inside the margin and never magnifies', () => {
    const v = fitView({ width: 4000, height: 2000 }, { width: 1032, height: 800 }, 16);
    expect(v.zoom).toBeCloseTo(1000 / 4000, 12);
    const tl = imageToScreen(v, { x: 0, y: 0 });
    const br = imageToScreen(v, { x: 4000, y: 2000 });
    expect(tl.x).toBeGreaterThanOrEqual(16);
    expect(br.x).toBeLessThanOrEqual(1032 - 16);
    expect(Math.abs(tl.y - (800 - br.y))).toBeLessThanOrEqual(1);
    expect(fitView({ width: 50, height: 40 }, { width: 1000, height: 800 }).zoom).toBe(1);
  });

  it('100 % centres the image at zoom 1', () => {
    const v = actualSizeView({ width: 100, height: 50 }, { width: 300, height: 250 });
    expect(v).toEqual({ zoom: 1, panX: 100, panY: 100 });
  });
});

describe('pan gesture', () => {
  it('middle-button drag pans by the pointer delta', () => {
    const g = new PanGesture();
    expect(g.pointerDown(1, { x: 10, y: 10 })).toBe(true);
    const v = g.pointerMove(v0, { x: 25, y: 4 });
    expect(v).toEqual(panBy(v0, 15, -6));
    expect(g.pointerUp()).toBe(true);
    expect(g.pointerMove(v0, { x: 50, y: 50 })).toBeNull();
  });

  it('primary drag pans only while Space is held', () => {
    const g = new PanGesture();
    expect(g.pointerDown(0, { x: 0, y: 0 })).toBe(false);
    expect(g.keyDown('Space')).toBe(true);
    expect(g.cursor).toBe('grab');
    expect(g.pointerDown(0, { x: 0, y: 0 })).toBe(true);
    expect(g.cursor).toBe('grabbing');
    expect(g.pointerMove(v0, { x: 5, y: 5 })).toEqual(panBy(v0, 5, 5));
    g.pointerUp();
    g.keyUp('Space');
    expect(g.pointerDown(0, { x: 0, y: 0 })).toBe(false);
    expect(g.keyDown('KeyB')).toBe(false);
  });

  it('ignores moves from another pointer and forgets state on blur', () => {
    const g = new PanGesture();
    g.pointerDown(1, { x: 0, y: 0 }, 7);
    expect(g.pointerMove(v0, { x: 9, y: 9 }, 8)).toBeNull();
    g.keyDown('Space');
    g.reset();
    expect(g.dragging).toBe(false);
    expect(g.spaceHeld).toBe(false);
  });
});
