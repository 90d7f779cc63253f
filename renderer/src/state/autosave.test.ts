import { afterEach, beforeEach, describe, it, expect, vi } from 'vitest';
import type { AutosaveSession } from '../../../electron/contract/schemas.ts';
import type { CodiApi } from '../engine-client/index.ts';
import { AUTOSAVE_INTERVAL_MS, Autosaver, EDIT_SETTLE_MS, autosaveIntervalFrom, findRecovery, parseSessionState, recoveryOfferText } from './autosave.ts';
import type { PageEvents, SnapshotSource } from './autosave.ts';

describe('autosave settings', () => {
  it('saves at least every 30 s; ?autosaveMs= may only shorten it (to no less than 1 s)', () => {
    expect(AUTOSAVE_INTERVAL_MS).toBe(30_000);
    expect(autosaveIntervalFrom('')).toBe(30_000);
    expect(autosaveIntervalFrom('?autosaveMs=2000')).toBe(2000);
    expect(autosaveIntervalFrom('?autosaveMs=10')).toBe(1000);
    expect(autosaveIntervalFrom('?autosaveMs=600000')).toBe(30_000);
    expect(autosaveIntervalFrom('?autosaveMs=abc')).toBe(30_000);
  });

  it('reads back its session state and ignores damaged state', () => {
    const st = { history: { undo: 'Brush stroke', redo: null }, tools: { pack: 'p', steps: 2, prompt: '', seed: 1, strength: 1, brushSize: 9, brushHardness: 0.5, brushOpacity: 1, brushMode: 'paint' } };
    expect(parseSessionState(JSON.stringify(st))).toEqual(st);
    expect(parseSessionState('{')).toBeNull();
    expect(parseSessionState('[]')).toBeNull();
  });
});

/** The broker's autosave slot, in memory: what the next start would find. */
function memoryBroker() {
  const b = {
    slot: null as AutosaveSession | null,
    writes: 0,
    clears: 0,
    api: {
      writeAutosave: async (req: { session: AutosaveSession }) => {
        b.slot = req.session;
        b.writes++;
        return { ok: true as const, value: { bytes: req.session.image.byteLength } };
      },
      clearAutosave: async () => {
        const had = b.slot !== null;
        b.slot = null;
        b.clears++;
        return { ok: true as const, value: { cleared: had } };
      },
      readAutosave: async () => ({ ok: true as const, value: { session: b.slot } }),
    },
  };
  return b;
}

/** A document whose edits the test makes; `hold` keeps the next encodes waiting. */
class FakeDoc {
  version = 0;
  undo: string | null = null;
  hold: Promise<void> | null = null;

  edit(label: string): void {
    this.version++;
    this.undo = label;
  }

  readonly source: SnapshotSource = {
    key: () => `photo.png:${this.version}:${this.undo ?? ''}`,
    capture: () => {
      const state = JSON.stringify({ history: { undo: this.undo, redo: null }, tools: { pack: null, steps: 2, prompt: '', seed: 0, strength: 1, brushSize: 30, brushHardness: 0.5, brushOpacity: 1, brushMode: 'paint' } });
      const v = this.version;
      const hold = this.hold;
      return async () => {
        if (hold) await hold;
        return { name: 'photo.png', path: null, width: 4, height: 2, savedAt: Date.now(), image: new Uint8Array([v]), state };
      };
    },
  };
}

function fakePage() {
  const fns = { hidden: [] as (() => void)[], closing: [] as (() => void)[], resumed: [] as (() => void)[] };
  const on = (k: keyof typeof fns) => (fn: () => void) => {
    fns[k].push(fn);
    return () => fns[k].splice(fns[k].indexOf(fn), 1);
  };
  const events: PageEvents = { onHidden: on('hidden'), onClosing: on('closing'), onResumed: on('resumed') };
  return { events, emit: (k: keyof typeof fns) => [...fns[k]].forEach((f) => f()) };
}

function setup() {
  const broker = memoryBroker();
  const doc = new FakeDoc();
  const page = fakePage();
  const saver = new Autosaver(doc.source, broker.api, { page: page.events });
  const nextStart = async () => findRecovery(broker.api as unknown as CodiApi);
  return { broker, doc, page, saver, nextStart };
}

describe('recovery offer rules', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('crash right after an inpaint: the next start offers the session naming the inpaint as the last edit', async () => {
    const { doc, saver, nextStart } = setup();
    saver.start();
    doc.edit('Paint mask');
    saver.changed();
    await vi.advanceTimersByTimeAsync(EDIT_SETTLE_MS);
    doc.edit('Test inpaint');
    saver.changed();
    await vi.advanceTimersByTimeAsync(EDIT_SETTLE_MS);
    // The crash: nothing else runs. (Well inside the 30 s backstop interval.)
    const session = await nextStart();
    expect(session).not.toBeNull();
    expect(recoveryOfferText(session!)).toContain('last edit: Test inpaint');
    expect(session!.image).toEqual(new Uint8Array([2]));
  });

  it('an edit made while a save is encoding is saved right after it', async () => {
    const { broker, doc, saver, nextStart } = setup();
    saver.start();
    let release!: () => void;
    doc.hold = new Promise<void>((r) => (release = r));
    doc.edit('Paint mask');
    saver.changed();
    await vi.advanceTimersByTimeAsync(EDIT_SETTLE_MS);
    doc.hold = null;
    doc.edit('Test inpaint');
    saver.changed();
    await vi.advanceTimersByTimeAsync(EDIT_SETTLE_MS);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(broker.writes).toBe(2);
    expect(parseSessionState((await nextStart())!.state)?.history.undo).toBe('Test inpaint');
  });

  it('a normal close (tab closed, reload, quit) leaves nothing to offer, even with a save in flight', async () => {
    const { broker, doc, page, saver, nextStart } = setup();
    saver.start();
    doc.edit('Paint mask');
    saver.changed();
    await vi.advanceTimersByTimeAsync(EDIT_SETTLE_MS);
    expect(await nextStart()).not.toBeNull();
    // The page is hidden, then closes while that save still encodes.
    let release!: () => void;
    doc.hold = new Promise<void>((r) => (release = r));
    doc.edit('Test inpaint');
    page.emit('hidden');
    page.emit('closing');
    release();
    await vi.advanceTimersByTimeAsync(AUTOSAVE_INTERVAL_MS * 2);
    expect(await nextStart()).toBeNull();
    expect(broker.writes).toBe(1);
  });

  it('closing a page while a crashed session is still on offer keeps that offer', async () => {
    const { broker, page, saver, nextStart } = setup();
    const crashed = { name: 'crashed.png', path: null, width: 4, height: 2, savedAt: 1, image: new Uint8Array([9]), state: '{}' };
    broker.slot = crashed;
    saver.start();
    page.emit('closing');
    expect(await nextStart()).toBe(crashed);
    expect(broker.clears).toBe(0);
  });

  it('back from the back/forward cache, the session is saved again', async () => {
    const { doc, page, saver, nextStart } = setup();
    saver.start();
    doc.edit('Paint mask');
    saver.changed();
    await vi.advanceTimersByTimeAsync(EDIT_SETTLE_MS);
    page.emit('closing');
    expect(await nextStart()).toBeNull();
    page.emit('resumed');
    await vi.advanceTimersByTimeAsync(EDIT_SETTLE_MS);
    expect(parseSessionState((await nextStart())!.state)?.history.undo).toBe('Paint mask');
  });
});
