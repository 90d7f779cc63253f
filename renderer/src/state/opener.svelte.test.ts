import { describe, expect, it } from 'vitest';
import type { CodiApi, ImagePixels, OpenImageResponse } from '../engine-client/index.ts';
import type { ImageDocument } from '../editor/document.ts';
import { ImageLedger } from './imageLedger.ts';
import { Notices } from './notices.svelte.ts';
import { Opener } from './opener.svelte.ts';
import { ok, scriptedApi } from './testing/fakeApi.ts';

function memoryStore() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
}

const opened = ok({ imageId: 'img_1', width: 2, height: 1, metadata: { name: '' } } as OpenImageResponse);
const pixels = ok<ImagePixels>({ imageId: 'img_1', width: 2, height: 1, rgba: new Uint8Array(8) });

function setup(over: Partial<CodiApi>, busy = false) {
  const { api } = scriptedApi({ releaseImage: async () => ok({ released: true }), ...over });
  const shown: ImageDocument[] = [];
  const notices = new Notices();
  const ledger = new ImageLedger(api, async () => new Uint8Array());
  const opener = new Opener({ api, ledger, notices, storage: memoryStore(), busy: () => busy, appInfo: () => null, show: (d) => shown.push(d) });
  return { opener, shown, notices, ledger };
}

describe('Opener', () => {
  it('opens a path, shows it, says so, and remembers it as recent', async () => {
    const t = setup({ openImage: async () => opened, getImagePixels: async () => pixels });
    await t.opener.openPath('/photos/cat.png');
    expect(t.shown.map((d) => [d.name, d.path, d.width, d.height])).toEqual([['cat.png', '/photos/cat.png', 2, 1]]);
    expect(t.ledger.held).toEqual(['img_1']);
    expect(t.notices.current).toEqual({ kind: 'info', text: 'Opened cat.png (2 × 1)' });
    expect(t.opener.recent).toEqual(['/photos/cat.png']);
    expect(t.opener.loading).toBeNull();
    t.opener.forgetRecent('/photos/cat.png');
    expect(t.opener.recent).toEqual([]);
  });

  it('keeps the open document when the new one fails, and does not list it as recent', async () => {
    const t = setup({ openImage: async () => ({ ok: false, error: { code: 'decode-failed', message: 'not an image' } }) });
    await t.opener.openPath('/photos/notes.txt');
    expect(t.shown).toEqual([]);
    expect(t.opener.recent).toEqual([]);
    expect(t.notices.current).toEqual({ kind: 'error', text: 'Could not open notes.txt: not an image' });
  });

  it('refuses to open while a job runs (its result belongs to the open image)', async () => {
    const t = setup({}, true);
    await t.opener.openBytes(new Uint8Array(1), 'b.png');
    expect(t.notices.current?.text).toBe('Wait for the running job to finish (or cancel it) before opening another image.');
  });

  it('has no native dialog in web mode', async () => {
    expect(await setup({}).opener.pickAndOpen()).toBe(false);
  });
});
