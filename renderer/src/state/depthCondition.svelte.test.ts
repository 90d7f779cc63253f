import { describe, expect, it } from 'vitest';
import type { OpenImageResponse } from '../engine-client/index.ts';
import { makeRgba } from '../editor/document.ts';
import { DepthCondition } from './depthCondition.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { ok, scriptedApi } from './testing/fakeApi.ts';

function colourPhoto() {
  const img = makeRgba(4, 4);
  for (let i = 0; i < 16; i++) img.data.set([200, 30, 30, 255], i * 4);
  return img;
}

const file = (name: string): File => ({ name, arrayBuffer: async () => new ArrayBuffer(4) }) as File;

describe('DepthCondition', () => {
  it("refuses a colour photo as its own depth map with core's reason, accepts a grey one", () => {
    const d = new DepthCondition(scriptedApi({}).api, new Notices());
    const why = d.blocker(colourPhoto());
    expect(why).toMatch(/^[A-Z].*\. Load one with “Load depth map…”\.$/);
    const grey = makeRgba(4, 4);
    for (let i = 0; i < 16; i++) grey.data.set([90, 90, 90, 255], i * 4);
    expect(d.blocker(grey)).toBeNull();
  });

  it('a loaded map lifts the refusal, replaces (and releases) the one before, and clears', async () => {
    const released: string[] = [];
    let n = 0;
    const { api } = scriptedApi({
      openImage: async () => ok({ imageId: `img_d${++n}`, width: 4, height: 4, metadata: { bitDepth: 16 } } as OpenImageResponse),
      releaseImage: async (r) => (released.push(r.imageId), ok({ released: true })),
    });
    const d = new DepthCondition(api, new Notices());
    await d.load(file('d1.png'));
    await d.load(file('d2.png'));
    expect(d.map).toEqual({ imageId: 'img_d2', name: 'd2.png', width: 4, height: 4, bitDepth: 16 });
    expect(d.blocker(colourPhoto())).toBeNull();
    d.clear();
    expect(released).toEqual(['img_d1', 'img_d2']);
    expect(d.map).toBeNull();
  });

  it('reports a map the engine cannot open', async () => {
    const notices = new Notices();
    const d = new DepthCondition(scriptedApi({ openImage: async () => ({ ok: false, error: { code: 'decode-failed', message: 'bad PNG' } }) }).api, notices);
    await d.load(file('x.png'));
    expect(notices.current).toEqual({ kind: 'error', text: 'Could not open the depth map x.png: bad PNG' });
  });
});
