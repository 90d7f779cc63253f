import { describe, it, expect } from 'vitest';
import { defaultSaveName, defaultSavePath, ImageDocument, makeRgba } from './document.ts';
import { History } from './history.ts';

describe('ImageDocument', () => {
  it('applies a result as an undoable step and remembers the before image', () => {
    const h = new History();
    const a = makeRgba(4, 2, new Uint8ClampedArray(32).fill(10));
    const doc = new ImageDocument('a.png', null, a);
    doc.mask.data[0] = 255;
    const b = makeRgba(8, 4);
    let changes = 0;
    doc.subscribe(() => changes++);
    doc.applyResult(b, 'Restore ×2', h);
    expect(doc.image).toBe(b);
    expect(doc.before).toBe(a);
    expect(doc.mask.width).toBe(8);
    expect(doc.mask.isEmpty()).toBe(true);
    h.undo();
    expect(doc.image).toBe(a);
    expect(doc.before).toBeNull();
    expect(doc.mask.data[0]).toBe(255);
    h.redo();
    expect(doc.image).toBe(b);
    expect(changes).toBe(3);
  });

  it('keeps the mask when the result has the same size and rejects bad buffers', () => {
    const h = new History();
    const doc = new ImageDocument('a.png', null, makeRgba(2, 2));
    const m = doc.mask;
    doc.applyResult(makeRgba(2, 2), 'Inpaint', h);
    expect(doc.mask).toBe(m);
    expect(() => makeRgba(2, 2, new Uint8ClampedArray(3))).toThrow(/expected 16/);
  });
});

describe('default save names', () => {
  it('derives <name>-codi.png next to the source', () => {
    expect(defaultSaveName('photo.jpg')).toBe('photo-codi.png');
    expect(defaultSaveName('archive.tar.gz', 'webp')).toBe('archive.tar-codi.webp');
    expect(defaultSaveName('.hidden')).toBe('.hidden-codi.png');
    expect(defaultSaveName('')).toBe('image-codi.png');
    expect(defaultSavePath({ name: 'cat.jpeg', path: '/home/u/pics/cat.jpeg' })).toBe('/home/u/pics/cat-codi.png');
    expect(defaultSavePath({ name: 'x.png', path: 'C:\\img\\x.png' })).toBe('C:\\img\\x-codi.png');
    expect(defaultSavePath({ name: 'pasted.png', path: null })).toBe('pasted-codi.png');
  });

  it('puts a photo opened without a path (upload, drop, paste) in the absolute save folder, never a bare name', () => {
    expect(defaultSavePath({ name: 'LadyBird.jpg', path: null }, 'png', '/home/u/Pictures')).toBe('/home/u/Pictures/LadyBird-codi.png');
    expect(defaultSavePath({ name: 'LadyBird.jpg', path: null }, 'webp', '/home/u/Pictures/')).toBe('/home/u/Pictures/LadyBird-codi.webp');
    expect(defaultSavePath({ name: 'x.png', path: null }, 'png', 'C:\\Users\\u\\Pictures')).toBe('C:\\Users\\u\\Pictures\\x-codi.png');
    // A known folder still wins: the result goes next to the photo.
    expect(defaultSavePath({ name: 'cat.jpeg', path: '/home/u/pics/cat.jpeg' }, 'png', '/home/u/Pictures')).toBe('/home/u/pics/cat-codi.png');
  });
});
