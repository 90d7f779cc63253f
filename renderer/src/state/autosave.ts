/**
 * Session autosave and crash recovery for the renderer. The current document (pixels as PNG,
 * the mask as a grey PNG, a history summary and the tool settings) is sent to the broker, which
 * keeps it atomically under the user data folder:
 * - shortly after every change, once editing pauses ({@link EDIT_SETTLE_MS}), so a crash loses
 *   at most the last second and the offer names the real last edit (a 30 s timer alone once
 *   left "Paint mask" as the last edit of a session that had inpainted since);
 * - every `intervalMs` (30 s by default) as a backstop, and when the page is hidden.
 * A page that closes normally (tab closed, reload, navigation, quit: `pagehide`) ends its
 * session: it clears the snapshot it wrote, so only a session that did not close normally (a
 * crashed tab, browser, server or power cut) is offered on the next start.
 * {@link findRecovery} returns that session and {@link restoreSession} puts it back.
 */
import type { AutosaveSession } from '../../../electron/contract/schemas.ts';
import type { CodiApi } from '../engine-client/index.ts';
import type { Studio } from './studio.svelte.ts';
import { encodePng } from './encodePng.ts';

/** Bounded loss after a crash: at most this much editing (docs/reliability.md §6.1). */
export const AUTOSAVE_INTERVAL_MS = 30_000;
/** After a change, the autosave waits this long for editing to pause (a brush stroke, a drag). */
export const EDIT_SETTLE_MS = 1000;

/** What the renderer keeps besides pixels and mask (JSON in the snapshot's `state`). */
export interface SessionState {
  history: { undo: string | null; redo: string | null };
  tools: {
    pack: string | null;
    steps: number;
    prompt: string;
    seed: number;
    strength: number;
    brushSize: number;
    brushHardness: number;
    brushOpacity: number;
    brushMode: 'paint' | 'erase';
  };
}

/** The interval, overridable with `?autosaveMs=` (tests, impatient users), clamped to 1–30 s. */
export function autosaveIntervalFrom(search: string): number {
  const v = Number(new URLSearchParams(search).get('autosaveMs'));
  return Number.isFinite(v) && v > 0 ? Math.min(AUTOSAVE_INTERVAL_MS, Math.max(1000, v)) : AUTOSAVE_INTERVAL_MS;
}

export function sessionStateOf(studio: Studio): SessionState {
  return {
    history: { undo: studio.document.undoLabel, redo: studio.document.redoLabel },
    tools: {
      pack: studio.tool.selectedPack,
      steps: studio.tool.steps,
      prompt: studio.tool.prompt,
      seed: studio.tool.seed,
      strength: studio.tool.strength,
      brushSize: studio.mask.brushSize,
      brushHardness: studio.mask.brushHardness,
      brushOpacity: studio.mask.brushOpacity,
      brushMode: studio.mask.brushMode,
    },
  };
}

/** What the autosaver saves: a cheap key that changes with every edit, and the snapshot itself. */
export interface SnapshotSource {
  /** '' when there is nothing to save (no document). */
  key(): string;
  /**
   * Take the snapshot's state now (the same moment as key()) and return the slow part, the
   * encoding, to run after; null when there is nothing to save.
   */
  capture(): (() => Promise<AutosaveSession>) | null;
}

/** The studio's document as a snapshot source. */
export function studioSnapshots(studio: Studio): SnapshotSource {
  return {
    key() {
      const doc = studio.document.doc;
      return doc ? `${doc.name}:${studio.document.version}:${studio.mask.version}:${studio.document.undoLabel ?? ''}` : '';
    },
    capture() {
      const doc = studio.document.doc;
      if (!doc) return null;
      // Captured together, before any await: the label named is the edit the pixels show.
      const image = doc.image;
      const state = JSON.stringify(sessionStateOf(studio));
      const withMask = !doc.mask.isEmpty();
      const mask = withMask ? studio.mask.png() : Promise.resolve(null);
      const base = { name: doc.name, path: doc.path, width: doc.width, height: doc.height };
      return async () => {
        const [png, maskPng] = await Promise.all([encodePng(image), mask]);
        return { ...base, savedAt: Date.now(), image: png, ...(maskPng ? { mask: maskPng } : {}), state };
      };
    },
  };
}

/** The page events the autosaver follows; the browser's by default, a stand-in in tests. */
export interface PageEvents {
  /** The page was hidden (another tab, minimised): save now. */
  onHidden(fn: () => void): () => void;
  /** The page is closing normally (pagehide): the session ends. */
  onClosing(fn: () => void): () => void;
  /** The page came back from the back/forward cache: the session goes on. */
  onResumed(fn: () => void): () => void;
}

export const browserPageEvents: PageEvents = {
  onHidden(fn) {
    const h = () => {
      if (document.visibilityState === 'hidden') fn();
    };
    document.addEventListener('visibilitychange', h);
    return () => document.removeEventListener('visibilitychange', h);
  },
  onClosing(fn) {
    window.addEventListener('pagehide', fn);
    return () => window.removeEventListener('pagehide', fn);
  },
  onResumed(fn) {
    const h = (e: PageTransitionEvent) => {
      if (e.persisted) fn();
    };
    window.addEventListener('pageshow', h);
    return () => window.removeEventListener('pageshow', h);
  },
};

export interface AutosaverOptions {
  intervalMs?: number;
  settleMs?: number;
  page?: PageEvents;
}

export class Autosaver {
  #timer: ReturnType<typeof setInterval> | null = null;
  #settle: ReturnType<typeof setTimeout> | null = null;
  #unlisten: (() => void)[] = [];
  #lastKey = '';
  #busy = false;
  /** A change arrived while a save was running: save again when it ends. */
  #again = false;
  /** The page closed normally: nothing more is written. */
  #closed = false;
  /**
   * The stored snapshot is this page's (it wrote or restored it). Only then does a normal close
   * clear it: a page closed while another session's offer is still open must leave that offer.
   */
  #owns = false;
  /** Time of the last successful save (ms since the epoch), for the UI. */
  lastSavedAt: number | null = null;
  readonly intervalMs: number;
  readonly settleMs: number;
  readonly #page: PageEvents;

  constructor(
    private readonly source: SnapshotSource,
    private readonly api: Pick<CodiApi, 'writeAutosave' | 'clearAutosave'>,
    options: AutosaverOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? AUTOSAVE_INTERVAL_MS;
    this.settleMs = options.settleMs ?? EDIT_SETTLE_MS;
    this.#page = options.page ?? browserPageEvents;
  }

  /** Begin saving (after the start-up look for a crashed session, so that one is not overwritten). */
  start(): void {
    if (this.#timer) return;
    this.#closed = false;
    this.#timer = setInterval(() => void this.saveIfChanged(), this.intervalMs);
    if (this.#unlisten.length === 0) {
      this.#unlisten = [
        this.#page.onHidden(() => void this.saveIfChanged()),
        this.#page.onClosing(() => this.endSession()),
        this.#page.onResumed(() => this.resume()),
      ];
    }
  }

  stop(): void {
    this.#halt();
    for (const u of this.#unlisten) u();
    this.#unlisten = [];
  }

  #halt(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#settle) clearTimeout(this.#settle);
    this.#timer = null;
    this.#settle = null;
  }

  /** Something changed (an edit, a job result, a mask stroke): save once editing pauses. */
  changed(): void {
    if (!this.#timer || this.#closed) return;
    if (this.#settle) clearTimeout(this.#settle);
    this.#settle = setTimeout(() => {
      this.#settle = null;
      void this.saveIfChanged();
    }, this.settleMs);
  }

  /** Treat the current state as saved and as this page's (after a restore: not written straight back). */
  markSaved(): void {
    this.#lastKey = this.source.key();
    this.#owns = true;
  }

  /** Save now if the document changed since the last save; resolves to whether it saved. */
  async saveIfChanged(): Promise<boolean> {
    const key = this.source.key();
    if (this.#closed || !key || key === this.#lastKey) return false;
    if (this.#busy) {
      this.#again = true;
      return false;
    }
    this.#busy = true;
    try {
      const encode = this.source.capture();
      if (!encode) return false;
      const session = await encode();
      // Closed normally while encoding: the session is over, there is nothing to offer.
      if (this.#closed) return false;
      // Owned from the moment it is sent: a close before the answer must still clear it.
      this.#owns = true;
      const r = await this.api.writeAutosave({ session });
      if (!r.ok) return false;
      this.#lastKey = key;
      this.lastSavedAt = session.savedAt;
      return true;
    } finally {
      this.#busy = false;
      if (this.#again) {
        this.#again = false;
        void this.saveIfChanged();
      }
    }
  }

  /**
   * The page is closing normally: stop, and clear the snapshot this page wrote, so the next
   * start does not mistake an ordinary close or reload for a crash. (A crash never gets here.)
   */
  endSession(): void {
    // Timers stop; the page listeners stay, so a page restored from the back/forward cache resumes.
    this.#halt();
    this.#closed = true;
    if (this.#owns) void this.api.clearAutosave({});
    this.#owns = false;
  }

  /** Back from the back/forward cache: the cleared snapshot is written again. */
  resume(): void {
    this.#lastKey = '';
    this.start();
    this.changed();
  }
}

/** What the recovery offer says about a saved session (the last edit is the snapshot's own). */
export function recoveryOfferText(session: AutosaveSession): string {
  const lastEdit = parseSessionState(session.state)?.history.undo ?? null;
  return `CoDi Studio did not close normally. Restore ${session.name} (${session.width} × ${session.height}${session.mask ? ', with its mask' : ''}${lastEdit ? `, last edit: ${lastEdit}` : ''}) from ${new Date(session.savedAt).toLocaleString()}?`;
}

/** The session left behind by a crash, if any (and if this shell supports recovery). */
export async function findRecovery(api: CodiApi): Promise<AutosaveSession | null> {
  const r = await api.readAutosave({});
  return r.ok ? r.value.session : null;
}

/** Parse a snapshot's state text; unknown or damaged state gives null (pixels and mask still restore). */
export function parseSessionState(text: string): SessionState | null {
  try {
    const s = JSON.parse(text) as Partial<SessionState>;
    return s && typeof s === 'object' && s.tools && typeof s.tools === 'object' ? (s as SessionState) : null;
  } catch {
    return null;
  }
}

/** Put a saved session back: the image, then its mask, then the tool settings. */
export async function restoreSession(studio: Studio, session: AutosaveSession): Promise<boolean> {
  await studio.opener.openBytes(session.image, session.name);
  const doc = studio.document.doc;
  if (!doc || doc.width !== session.width || doc.height !== session.height) return false;
  if (session.mask) await studio.mask.load(new Blob([session.mask.slice()], { type: 'image/png' }));
  const st = parseSessionState(session.state);
  if (st) {
    const t = st.tools;
    if (typeof t.steps === 'number') studio.tool.setSteps(t.steps);
    if (typeof t.prompt === 'string') studio.tool.prompt = t.prompt;
    if (typeof t.seed === 'number') studio.tool.seed = t.seed;
    if (typeof t.strength === 'number') studio.tool.strength = t.strength;
    // Through the brush's setters, so the bound brush paints with them (and they stay in range).
    if (typeof t.brushSize === 'number') studio.mask.setBrushSize(t.brushSize);
    if (typeof t.brushHardness === 'number') studio.mask.setBrushHardness(t.brushHardness);
    if (typeof t.brushOpacity === 'number') studio.mask.setBrushOpacity(t.brushOpacity);
    if (t.pack && studio.session.packs.some((p) => p.name === t.pack)) studio.selectPack(t.pack);
  }
  studio.notices.info(`Recovered ${session.name} from ${new Date(session.savedAt).toLocaleTimeString()}.`);
  return true;
}
