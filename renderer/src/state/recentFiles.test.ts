import { describe, it, expect } from 'vitest';
import { addRecent, readRecent, RECENT_KEY, RECENT_MAX, removeRecent } from './recentFiles.ts';
import type { KeyValueStore } from './recentFiles.ts';

function memory(): KeyValueStore & { m: Map<string, string> } {
  const m = new Map<string, string>();
  return { m, getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) };
}

describe('recent files', () => {
  it('keeps paths newest first, without duplicates, capped', () => {
    const s = memory();
    addRecent(s, '/a.png');
    addRecent(s, '/b.jpg');
    expect(addRecent(s, '/a.png')).toEqual(['/a.png', '/b.jpg']);
    for (let i = 0; i < 20; i++) addRecent(s, `/p${i}.png`);
    const list = readRecent(s);
    expect(list).toHaveLength(RECENT_MAX);
    expect(list[0]).toBe('/p19.png');
    expect(removeRecent(s, '/p19.png')[0]).toBe('/p18.png');
  });

  it('survives corrupt or hostile storage contents', () => {
    const s = memory();
    s.m.set(RECENT_KEY, '{not json');
    expect(readRecent(s)).toEqual([]);
    s.m.set(RECENT_KEY, JSON.stringify(['/ok.png', 3, null, 'a\0b', '']));
    expect(readRecent(s)).toEqual(['/ok.png']);
    const full: KeyValueStore = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); } };
    expect(addRecent(full, '/x.png')).toEqual(['/x.png']);
  });
});
