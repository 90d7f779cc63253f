import { describe, expect, it } from 'vitest';
import type { CodiApi, CodiEvent, EngineConnection, ImagePixels, OpenImageResponse, RunToolRequest } from '../engine-client/index.ts';
import { Studio } from './studio.svelte.ts';
import { ok, pack, scriptedApi } from './testing/fakeApi.ts';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** An engine with an edit and an inpaint pack whose jobs finish when the test says. */
function engine(over: Partial<CodiApi> = {}) {
  let n = 0;
  const sizes = new Map<string, { width: number; height: number }>();
  const sent: RunToolRequest[] = [];
  let emit: (e: CodiEvent) => void = () => {};
  const s = scriptedApi({
    listPacks: async () => ok({ packs: [pack('edit', 'edit', { title: 'Edit', takesText: true }), pack('fill', 'inpaint', { title: 'Fill' })], provider: { active: 'cpu', tried: ['cpu'] } }),
    openImage: async () => {
      const id = `img_${++n}`;
      sizes.set(id, { width: 4, height: 4 });
      return ok({ imageId: id, width: 4, height: 4, metadata: { name: '' } } as OpenImageResponse);
    },
    getImagePixels: async (r) => {
      const { width, height } = sizes.get(r.imageId) ?? { width: 8, height: 8 };
      return ok<ImagePixels>({ imageId: r.imageId, width, height, rgba: new Uint8Array(width * height * 4) });
    },
    releaseImage: async () => ok({ released: true }),
    runTool: async (r) => (sent.push(r), ok({ jobId: `job_${sent.length}` })),
    ...over,
  });
  emit = s.emit;
  const conn: EngineConnection = { api: s.api, transport: 'websocket', onLink: () => () => {} };
  const finish = (job: number, resultImageId: string, size = 4): void => {
    sizes.set(resultImageId, { width: size, height: size });
    emit({ type: 'job-done', done: { jobId: `job_${job}`, resultImageId, width: size, height: size, elapsedMs: 1200, notes: [] } });
  };
  return { conn, sent, finish };
}

async function openStudio(e = engine()): Promise<Studio> {
  const studio = new Studio(e.conn, null);
  await studio.session.loadPacks();
  await studio.opener.openBytes(new Uint8Array(1), 'a.png');
  return studio;
}

describe('Studio', () => {
  it('starts on a default tool once packs are listed, and says why Run waits', async () => {
    const studio = new Studio(engine().conn, null);
    expect(studio.runBlocker).toBe('Open an image first.');
    await studio.session.loadPacks();
    expect(studio.tool.selectedPack).toBe('edit');
    await studio.opener.openBytes(new Uint8Array(1), 'a.png');
    expect(studio.canRun).toBe(true);
    studio.selectPack('fill');
    expect(studio.runBlocker).toBe('Paint a mask over the area to fill.');
  });

  it('offers no variations where every seed gives the same result (start temperature 0 at 1 step)', async () => {
    const e = engine({
      listPacks: async () => ok({ packs: [pack('up', 'restore', { title: 'Restore', upscale: 4, steps: { default: 1, max: 8 }, startTemperature: 0 })], provider: { active: 'cpu', tried: ['cpu'] } }),
    });
    const studio = await openStudio(e);
    expect(studio.canRun).toBe(true);
    expect(studio.variationsBlocker).toMatch(/same result for every seed at 1 step/);
    await studio.runVariations();
    expect(e.sent).toHaveLength(0);
    studio.tool.setSteps(2);
    expect(studio.variationsBlocker).toBeNull();
  });

  it('runs the tool on the open image and makes the result one undo step', async () => {
    const e = engine();
    const studio = await openStudio(e);
    const run = studio.run();
    await tick();
    expect(studio.runBlocker).toBe('A job is running.');
    e.finish(1, 'img_out', 8);
    await run;
    expect(e.sent[0]).toMatchObject({ tool: 'edit', pack: 'edit', imageId: 'img_1' });
    expect(studio.document.info).toMatchObject({ width: 8, height: 8, hasBefore: true });
    expect(studio.document.undoLabel).toBe('Edit');
    expect(studio.notices.current).toEqual({ kind: 'info', text: 'Edit done in 1.2 s → 8 × 8.' });
    studio.undo();
    expect(studio.document.info?.width).toBe(4);
  });

  it('keeps the image a job runs on: opening another waits for the job', async () => {
    const e = engine();
    const studio = await openStudio(e);
    const run = studio.run();
    await tick();
    expect(studio.busy).toBe(true);
    await studio.opener.openBytes(new Uint8Array(1), 'b.png');
    expect(studio.document.info?.name).toBe('a.png');
    e.finish(1, 'img_out');
    await run;
    expect(studio.document.undoLabel).toBe('Edit');
  });

  it('a new document resets a pending grow/feather and its sliders', async () => {
    const studio = await openStudio();
    studio.mask.invert();
    studio.mask.previewGrow(5);
    expect(studio.mask.growBy).toBe(5);
    await studio.opener.openBytes(new Uint8Array(1), 'b.png');
    expect([studio.mask.growBy, studio.mask.featherBy, studio.mask.adjust, studio.mask.preview]).toEqual([0, 0, null, null]);
    expect(studio.mask.empty).toBe(true);
    expect(studio.document.canUndo).toBe(false);
  });

  it('hides the mask to show an inpaint result, and says how to bring it back', async () => {
    const e = engine();
    const studio = await openStudio(e);
    studio.selectPack('fill');
    studio.mask.invert();
    const run = studio.run();
    await tick();
    e.finish(1, 'img_out');
    await run;
    expect(e.sent[0]?.mask?.data.every((v) => v === 255)).toBe(true);
    expect(studio.mask.shown).toBe(false);
    expect(studio.notices.current?.text).toBe('Fill done in 1.2 s. Mask hidden to show the result (H shows it).');
  });
});
