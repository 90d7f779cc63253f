import { describe, expect, it } from 'vitest';
import type { CodiApi } from '../engine-client/index.ts';
import { ImageDocument, makeRgba } from '../editor/document.ts';
import { ImageLedger } from './imageLedger.ts';
import { Notices } from './notices.svelte.ts';
import { Saver } from './saving.ts';
import { ok, scriptedApi } from './testing/fakeApi.ts';

function setup(over: Partial<CodiApi>, doc: ImageDocument | null = new ImageDocument('cat.jpg', '/photos/cat.jpg', makeRgba(2, 2))) {
  const { api } = scriptedApi(over);
  const ledger = new ImageLedger(api, async () => new Uint8Array());
  if (doc) ledger.startDocument(doc.image, 'img_cat');
  const notices = new Notices();
  return { saver: new Saver({ api, ledger, notices, doc: () => doc, appInfo: () => ({ saveFolder: '/home/u/Pictures' }) as never }), notices };
}

describe('Saver', () => {
  it("saves beside the photo by default, else in the app's save folder", () => {
    expect(setup({}).saver.defaultSavePath('png')).toBe('/photos/cat-codi.png');
    expect(setup({}, null).saver.defaultSavePath('jpg')).toBe('/home/u/Pictures/image-codi.jpg');
  });

  it('tells a refusal (exists / is-original) apart from a failure, and reports a save', async () => {
    const refusals = [
      [{ code: 'exists', message: 'cat-codi.png exists' }, { ok: false, exists: true, original: false, message: 'cat-codi.png exists' }],
      [{ code: 'is-original', message: 'cat.jpg is open as an original' }, { ok: false, exists: false, original: true, message: 'cat.jpg is open as an original' }],
      [{ code: 'io', message: 'disk full' }, { ok: false, exists: false, original: false, message: 'Could not save: disk full' }],
    ] as const;
    for (const [error, expected] of refusals) {
      const { saver } = setup({ saveImage: async () => ({ ok: false, error }) });
      expect(await saver.save('/photos/x.png', 'png', 90, true, false)).toEqual(expected);
    }
    const { saver, notices } = setup({ saveImage: async () => ok({ path: '/photos/cat.jpg', bytes: 4096, keptOriginal: { place: 'trash', path: '/t/cat.jpg' } }) });
    expect(await saver.save('/photos/cat.jpg', 'jpeg', 90, true, true, true)).toEqual({ ok: true, path: '/photos/cat.jpg', bytes: 4096, kept: "The original's previous file is in the trash: /t/cat.jpg" });
    expect(notices.current).toEqual({ kind: 'info', text: "Saved /photos/cat.jpg (4 KB). The original's previous file is in the trash: /t/cat.jpg" });
  });

  it('reports an encode that failed', async () => {
    const { saver, notices } = setup({ encodeImage: async () => ({ ok: false, error: { code: 'unsupported', message: 'no AVIF encoder' } }) });
    expect(await saver.encode('avif', 80, false)).toBeNull();
    expect(notices.current).toEqual({ kind: 'error', text: 'Could not encode the image: no AVIF encoder' });
  });
});
