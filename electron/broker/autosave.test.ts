import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AutosaveSession } from '../contract/schemas.ts';
import { AutosaveStore, defaultAutosaveDir } from './autosave.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'codi-autosave-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const session = (n: number, mask = true): AutosaveSession => ({
  name: `doc${n}.png`,
  path: null,
  width: 4,
  height: 2,
  savedAt: 1000 + n,
  image: new Uint8Array([n, 1, 2, 3]),
  ...(mask ? { mask: new Uint8Array([n, 9]) } : {}),
  state: JSON.stringify({ n }),
});

describe('AutosaveStore', () => {
  it('round-trips a session and keeps only the latest generation', async () => {
    const store = new AutosaveStore(dir);
    expect(await store.read()).toBeNull();
    await store.write(session(1));
    await store.write(session(2, false));
    expect(await store.read()).toEqual(session(2, false));
    expect((await readdir(dir)).filter((f) => f.startsWith('gen-')).length).toBe(1);
  });

  it('serialises concurrent writes: the last one wins, complete', async () => {
    const store = new AutosaveStore(dir);
    await Promise.all([1, 2, 3, 4].map((n) => store.write(session(n))));
    expect(await store.read()).toEqual(session(4));
  });

  it('never offers a damaged snapshot, and a half-written generation leaves the previous one', async () => {
    const store = new AutosaveStore(dir);
    await store.write(session(1));
    const cur = JSON.parse(await readFile(path.join(dir, 'current.json'), 'utf8')) as { gen: string };
    // A crash after the new generation's files but before current.json changed: the old snapshot stays current.
    await writeFile(path.join(dir, 'gen-zzz'), 'partial');
    expect(await store.read()).toEqual(session(1));
    await writeFile(path.join(dir, cur.gen, 'image.png'), new Uint8Array([7, 7, 7, 7]));
    expect(await store.read()).toBeNull();
    await writeFile(path.join(dir, 'current.json'), '{"gen":"../../etc"}');
    expect(await store.read()).toBeNull();
  });

  it('a read waits for the clear sent before it (a normal close, then the reloaded page looks)', async () => {
    const store = new AutosaveStore(dir);
    await store.write(session(1));
    // The closing page's last write and its clear are still on their way when the reload reads.
    const written = store.write(session(2));
    const cleared = store.clear();
    expect(await store.read()).toBeNull();
    expect(await written).toBeGreaterThan(0);
    expect(await cleared).toBe(true);
  });

  it('clear forgets the snapshot', async () => {
    const store = new AutosaveStore(dir);
    await store.write(session(1));
    expect(await store.clear()).toBe(true);
    expect(await store.read()).toBeNull();
    expect(await store.clear()).toBe(false);
  });

  it('lives under CODI_USER_DATA in web mode', () => {
    expect(defaultAutosaveDir({ CODI_USER_DATA: '/data/codi' })).toBe(path.join('/data/codi', 'autosave'));
    expect(defaultAutosaveDir({})).toBe(path.join(os.homedir(), '.codi-studio', 'autosave'));
  });
});
