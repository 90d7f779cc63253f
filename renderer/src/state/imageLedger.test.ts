import { describe, expect, it } from 'vitest';
import type { OpenImageResponse, Result } from '../engine-client/index.ts';
import { makeRgba } from '../editor/document.ts';
import { ImageLedger } from './imageLedger.ts';
import { ok, scriptedApi } from './testing/fakeApi.ts';

const opened = (imageId: string): Result<OpenImageResponse> => ok({ imageId, width: 1, height: 1 } as OpenImageResponse);
const png = async (): Promise<Uint8Array> => new Uint8Array([137, 80, 78, 71]);

describe('ImageLedger', () => {
  it("re-sends the pixels once when the engine answers 'image-gone', and keeps the new id", async () => {
    const { api, calls } = scriptedApi({ openImage: async () => opened('img_new') });
    const ledger = new ImageLedger(api, png);
    const img = makeRgba(1, 1);
    ledger.startDocument(img, 'img_old');
    const tried: string[] = [];
    const r = await ledger.withImage(img, 'a.png', async (id) => {
      tried.push(id);
      return id === 'img_old' ? { ok: false, error: { code: 'image-gone', message: 'no image img_old' } } : ok('saved');
    });
    expect(r).toEqual(ok('saved'));
    expect(tried).toEqual(['img_old', 'img_new']);
    expect(calls).toEqual(['openImage']);
    expect(ledger.idOf(img)).toBe('img_new');
    expect(ledger.held).toEqual(['img_old', 'img_new']);
  });

  it('does not retry other errors, whatever their text says', async () => {
    const { api, calls } = scriptedApi({});
    const ledger = new ImageLedger(api, png);
    const img = makeRgba(1, 1);
    ledger.startDocument(img, 'img_a');
    // A save into a missing folder is 'not-found' too, and its message may well name the image.
    const missing = { ok: false, error: { code: 'not-found', message: 'img_a: the folder does not exist' } } as const;
    expect(await ledger.withImage(img, 'a.png', async () => missing)).toEqual(missing);
    expect(calls).toEqual([]);
  });

  it('uploads an image the engine never held, and releases the old document on a new one', async () => {
    const released: string[] = [];
    const { api } = scriptedApi({ openImage: async () => opened('img_up'), releaseImage: async (r) => (released.push(r.imageId), ok({ released: true })) });
    const ledger = new ImageLedger(api, png);
    const first = makeRgba(1, 1);
    ledger.startDocument(first, 'img_1');
    const result = makeRgba(1, 1);
    ledger.remember(result, 'img_2');
    const fresh = makeRgba(2, 2);
    expect(await ledger.withImage(fresh, 'b.png', async (id) => ok(id))).toEqual(ok('img_up'));
    ledger.startDocument(makeRgba(1, 1), 'img_9');
    expect(released).toEqual(['img_1', 'img_2', 'img_up']);
    expect(ledger.held).toEqual(['img_9']);
  });

  it('says why when the pixels cannot be encoded for the re-send', async () => {
    const { api } = scriptedApi({});
    const ledger = new ImageLedger(api, async () => {
      throw new Error('no canvas');
    });
    const r = await ledger.withImage(makeRgba(1, 1), 'a.png', async (id) => ok(id));
    expect(r).toEqual({ ok: false, error: { code: 'internal', message: 'could not re-send the image to the engine: no canvas' } });
  });
});
