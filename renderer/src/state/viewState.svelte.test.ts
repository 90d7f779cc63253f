import { describe, expect, it } from 'vitest';
import type { Size } from '../editor/view.ts';
import { ViewState } from './viewState.svelte.ts';

describe('ViewState', () => {
  it('fits the image to the viewport, shows it 1:1, and zooms about the centre', () => {
    let image: Size | null = { width: 1600, height: 1200 };
    let redraws = 0;
    const v = new ViewState(() => image, () => redraws++);
    v.setViewport({ width: 800, height: 600 });
    expect(redraws).toBe(0); // same size as before: nothing to redraw
    v.fit();
    expect(v.view.zoom).toBeGreaterThan(0.3);
    expect(v.view.zoom).toBeLessThanOrEqual(0.5);
    v.actualSize();
    expect(v.view.zoom).toBe(1);
    v.zoomBy(2);
    expect(v.view.zoom).toBe(2);
    expect(redraws).toBe(3);
    image = null;
    const before = v.view;
    v.fit();
    expect(v.view).toBe(before);
  });
});
