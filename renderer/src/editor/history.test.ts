import { describe, it, expect } from 'vitest';
import type { Command } from './history.ts';
import { History } from './history.ts';
import { TileCapture } from './tileUndo.ts';

function counter(log: string[], name: string, bytes = 0): Command {
  return { label: name, bytes, undo: () => log.push(`undo ${name}`), redo: () => log.push(`redo ${name}`) };
}

describe('History', () => {
  it('undoes and redoes in LIFO order and a new push drops the redo branch', () => {
    const h = new History();
    const log: string[] = [];
    h.push(counter(log, 'a'));
    h.push(counter(log, 'b'));
    expect(h.undoLabel).toBe('b');
    h.undo();
    h.undo();
    expect(h.canUndo).toBe(false);
    expect(h.undo()).toBeNull();
    h.redo();
    expect(log).toEqual(['undo b', 'undo a', 'redo a']);
    h.push(counter(log, 'c'));
    expect(h.canRedo).toBe(false);
    expect(h.depth).toEqual({ undo: 2, redo: 0 });
  });

  it('evicts the oldest entries beyond the byte budget but keeps the newest', () => {
    const h = new History({ maxBytes: 100 });
    const log: string[] = [];
    h.push(counter(log, 'a', 60));
    h.push(counter(log, 'b', 30));
    expect(h.depth.undo).toBe(2);
    h.push(counter(log, 'c', 30));
    expect(h.depth.undo).toBe(2);
    expect(h.bytes).toBe(60);
    h.push(counter(log, 'huge', 500));
    expect(h.depth.undo).toBe(1);
    expect(h.undoLabel).toBe('huge');
  });

  it('caps the number of steps and notifies subscribers', () => {
    const h = new History({ maxSteps: 3 });
    let n = 0;
    const off = h.subscribe(() => n++);
    for (let i = 0; i < 5; i++) h.push(counter([], String(i)));
    expect(h.depth.undo).toBe(3);
    h.undo();
    off();
    h.redo();
    expect(n).toBe(6);
  });
});

describe('TileCapture', () => {
  const plane = (w: number, h: number, ch = 1) => ({ width: w, height: h, channels: ch, data: new Uint8Array(w * h * ch) });

  it('stores only changed tiles and restores exactly on undo/redo', () => {
    const p = plane(200, 130);
    for (let i = 0; i < p.data.length; i++) p.data[i] = i % 251;
    const original = p.data.slice();
    const cap = new TileCapture(p, 64);
    cap.touch({ x0: 0, y0: 0, x1: 200, y1: 130 });
    p.data[70 * 200 + 150] = 7; // one pixel in tile (2,1)
    const cmd = cap.finish('edit');
    expect(cmd).not.toBeNull();
    expect(cmd!.bytes).toBe(64 * 64 * 2);
    const edited = p.data.slice();
    cmd!.undo();
    expect(p.data).toEqual(original);
    cmd!.redo();
    expect(p.data).toEqual(edited);
  });

  it('handles partial edge tiles and multi-channel planes', () => {
    const p = plane(70, 70, 4);
    const cap = new TileCapture(p, 64);
    cap.touch({ x0: 60, y0: 60, x1: 80, y1: 80 });
    p.data.fill(9, (69 * 70 + 69) * 4, (69 * 70 + 70) * 4);
    const cmd = cap.finish('edge')!;
    expect(cmd.bytes).toBe(6 * 6 * 4 * 2);
    cmd.undo();
    expect(p.data.every((v) => v === 0)).toBe(true);
  });

  it('returns null when nothing changed and revert restores a cancelled edit', () => {
    const p = plane(10, 10);
    const cap = new TileCapture(p, 4);
    cap.touch({ x0: 0, y0: 0, x1: 10, y1: 10 });
    expect(cap.finish('noop')).toBeNull();
    const cap2 = new TileCapture(p, 4);
    cap2.touch({ x0: 2, y0: 2, x1: 3, y1: 3 });
    p.data[2 * 10 + 2] = 200;
    cap2.revert();
    expect(p.data[22]).toBe(0);
  });
});

describe('History budget', () => {
  it('reports bytes used against the limit and evicts oldest first to stay under it', () => {
    const log: string[] = [];
    const h = new History({ maxBytes: 100 });
    for (let i = 0; i < 5; i++) h.push({ label: `c${i}`, bytes: 30, undo: () => log.push(`u${i}`), redo: () => {} });
    expect(h.budget).toEqual({ used: 90, limit: 100 });
    while (h.undo()) { /* drain */ }
    expect(log).toEqual(['u4', 'u3', 'u2']);
  });
});
