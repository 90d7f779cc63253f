import { describe, expect, it } from 'vitest';
import { ImageDocument, makeRgba } from '../editor/document.ts';
import { DocumentState } from './documentState.svelte.ts';

describe('DocumentState', () => {
  it('mirrors history into reactive values and reports document changes', () => {
    const seen: string[] = [];
    const ds = new DocumentState({ historyChanged: () => seen.push('history'), docChanged: () => seen.push('doc') });
    const doc = new ImageDocument('a.png', null, makeRgba(2, 2));
    ds.replace(doc);
    expect(ds.info).toEqual({ name: 'a.png', width: 2, height: 2, hasBefore: false });
    const v = ds.version;
    seen.length = 0;
    doc.applyResult(makeRgba(4, 4), 'Upscale', ds.history);
    expect(seen).toEqual(['doc', 'history']);
    expect(ds.version).toBe(v + 1);
    expect([ds.canUndo, ds.undoLabel, ds.canRedo]).toEqual([true, 'Upscale', false]);
    expect(ds.historyUsed).toBeGreaterThan(0);
    expect(ds.info).toEqual({ name: 'a.png', width: 4, height: 4, hasBefore: true });
    ds.undo();
    expect([ds.canUndo, ds.canRedo, ds.redoLabel]).toEqual([false, true, 'Upscale']);
    expect(ds.info?.width).toBe(2);
  });

  it('a new document starts with an empty history, and the old one no longer reports', () => {
    const seen: string[] = [];
    const ds = new DocumentState({ historyChanged: () => {}, docChanged: () => seen.push('doc') });
    const first = new ImageDocument('a.png', null, makeRgba(2, 2));
    ds.replace(first);
    first.applyResult(makeRgba(2, 2), 'Edit', ds.history);
    ds.replace(new ImageDocument('b.png', null, makeRgba(3, 3)));
    expect([ds.canUndo, ds.undoLabel, ds.historyUsed]).toEqual([false, null, 0]);
    seen.length = 0;
    first.changed();
    expect(seen).toEqual([]);
  });
});
