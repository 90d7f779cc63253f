/**
 * Recently opened files: paths only (never pixels or thumbnails), newest first, kept in
 * localStorage so they survive a restart. Only files opened by path are listed; dropped or
 * pasted images have no path to reopen.
 */

/** The part of the Web Storage API this needs (tests pass a Map-backed object). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const RECENT_KEY = 'codi.recentFiles';
export const RECENT_MAX = 10;

export function readRecent(store: KeyValueStore): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(store.getItem(RECENT_KEY) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.filter((p): p is string => typeof p === 'string' && p.length > 0 && p.length <= 4096 && !p.includes('\0')).slice(0, RECENT_MAX);
}

/** Move `path` to the front (adding it if new) and persist; returns the new list. */
export function addRecent(store: KeyValueStore, path: string): string[] {
  const list = [path, ...readRecent(store).filter((p) => p !== path)].slice(0, RECENT_MAX);
  try {
    store.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // Storage full or disabled (private mode): the list just is not remembered.
  }
  return list;
}

export function removeRecent(store: KeyValueStore, path: string): string[] {
  const list = readRecent(store).filter((p) => p !== path);
  try {
    store.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // See addRecent.
  }
  return list;
}
