import { describe, it, expect } from 'vitest';
// The test (not the bundle) imports the contract's codec to prove the mirror matches it.
import { decodeFrame as contractDecode, encodeFrame as contractEncode } from '../../../electron/contract/wire.ts';
import type { ClientMessage, ServerMessage } from '../../../electron/contract/wire.ts';
import { decodeFrame, encodeFrame } from './wire.ts';

describe('wire mirror', () => {
  it('encodes requests byte-identically to the contract codec', () => {
    const rgba = new Uint8Array([1, 2, 3, 4, 250, 251, 252, 253]);
    const msgs: ClientMessage[] = [
      { t: 'req', id: 7, ch: 'codi:openImage', p: { source: 'bytes', bytes: rgba, name: 'x.png' } },
      { t: 'req', id: 8, ch: 'codi:runTool', p: { tool: 'inpaint', imageId: 'img_a', mask: { width: 2, height: 1, data: new Uint8Array([0, 255]) }, steps: 2 } },
      { t: 'req', id: 9, ch: 'codi:listPacks', p: {} },
    ];
    for (const m of msgs) expect(encodeFrame(m)).toEqual(contractEncode(m));
  });

  it('decodes what the contract encodes, and the contract decodes what we encode', () => {
    const server: ServerMessage = {
      t: 'res', id: 3, r: { ok: true, value: { imageId: 'img_1', width: 1, height: 2, rgba: new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]) } },
    };
    expect(decodeFrame(contractEncode(server))).toEqual(server);
    const evt: ServerMessage = { t: 'evt', e: { type: 'engine-status', status: { state: 'ready' } } };
    expect(decodeFrame(contractEncode(evt))).toEqual(evt);
    const req: ClientMessage = { t: 'req', id: 1, ch: 'codi:saveImage', p: { imageId: 'img_1', format: 'png', path: '/tmp/a.png' } };
    expect(contractDecode(encodeFrame(req))).toEqual(req);
  });

  it('rejects truncated frames', () => {
    const f = encodeFrame({ t: 'req', id: 1, ch: 'codi:listPacks', p: { b: new Uint8Array(10) } });
    expect(() => decodeFrame(f.subarray(0, f.length - 1))).toThrow();
    expect(() => decodeFrame(new Uint8Array(2))).toThrow();
  });
});
