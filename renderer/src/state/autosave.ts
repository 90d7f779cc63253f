/**
 * Session autosave and crash recovery for the renderer. Every `intervalMs` (30 s by default)
 * the current document (pixels as PNG, the mask as a grey PNG, a history summary and the tool
 * settings) is sent to the broker, which keeps it atomically under the user data folder; the
 * same happens when the page is hidden or closed (quit). Nothing is sent when nothing changed.
 * On the next start {@link findRecovery} returns the saved session, and {@link restoreSession}
 * puts it back.
 */
import type { AutosaveSession } from '../../../electron/contract/schemas.ts';
import type { CodiApi } from '../engine-client/index.ts';
import type { Studio } from './studio.svelte.ts';
import { encodePng } from './encodePng.ts';

/** Bounded loss after a crash: at most this much editing (docs/reliability.md §6.1). */
export const AUTOSAVE_INTERVAL_MS = 30_000;

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
    history: { undo: studio.undoLabel, redo: studio.redoLabel },
    tools: {
      pack: studio.selectedPack,
      steps: studio.steps,
      prompt: studio.prompt,
      seed: studio.seed,
      strength: studio.strength,
      brushSize: studio.brushSize,
      brushHardness: studio.brushHardness,
      brushOpacity: studio.brushOpacity,
      brushMode: studio.brushMode,
    },
  };
}

export class Autosaver {
  #timer: ReturnType<typeof setInterval> | null = null;
  #lastKey = '';
  #busy = false;
  /** Time of the last successful save (ms since the epoch), for the UI. */
  lastSavedAt: number | null = null;
  readonly #onHide = () => {
    if (document.visibilityState === 'hidden') void this.saveIfChanged();
  };
  readonly #onPageHide = () => void this.saveIfChanged();

  constructor(
    private readonly studio: Studio,
    private readonly api: CodiApi,
    readonly intervalMs = AUTOSAVE_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.saveIfChanged(), this.intervalMs);
    document.addEventListener('visibilitychange', this.#onHide);
    window.addEventListener('pagehide', this.#onPageHide);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    document.removeEventListener('visibilitychange', this.#onHide);
    window.removeEventListener('pagehide', this.#onPageHide);
  }

  /** Treat the current state as saved (after a restore, so it is not written straight back). */
  markSaved(): void {
    this.#lastKey = this.#key();
  }

  #key(): string {
    const doc = this.studio.doc;
    return doc ? `${doc.name}:${this.studio.docVersion}:${this.studio.maskVersion}:${this.studio.undoLabel ?? ''}` : '';
  }

  /** Save now if the document changed since the last save; resolves to whether it saved. */
  async saveIfChanged(): Promise<boolean> {
    const doc = this.studio.doc;
    const key = this.#key();
    if (!doc || key === this.#lastKey || this.#busy) return false;
    this.#busy = true;
    try {
      const image = await encodePng(doc.image);
      const mask = doc.mask.isEmpty() ? null : await this.studio.maskPng();
      const session: AutosaveSession = {
        name: doc.name,
        path: doc.path,
        width: doc.width,
        height: doc.height,
        savedAt: Date.now(),
        image,
        ...(mask ? { mask } : {}),
        state: JSON.stringify(sessionStateOf(this.studio)),
      };
      const r = await this.api.writeAutosave({ session });
      if (!r.ok) return false;
      this.#lastKey = key;
      this.lastSavedAt = session.savedAt;
      return true;
    } finally {
      this.#busy = false;
    }
  }
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
  await studio.openBytes(session.image, session.name);
  const doc = studio.doc;
  if (!doc || doc.width !== session.width || doc.height !== session.height) return false;
  if (session.mask) await studio.loadMask(new Blob([session.mask.slice()], { type: 'image/png' }));
  const st = parseSessionState(session.state);
  if (st) {
    const t = st.tools;
    if (typeof t.steps === 'number') studio.steps = t.steps;
    if (typeof t.prompt === 'string') studio.prompt = t.prompt;
    if (typeof t.seed === 'number') studio.seed = t.seed;
    if (typeof t.strength === 'number') studio.strength = t.strength;
    if (typeof t.brushSize === 'number') studio.brushSize = t.brushSize;
    if (typeof t.brushHardness === 'number') studio.brushHardness = t.brushHardness;
    if (typeof t.brushOpacity === 'number') studio.brushOpacity = t.brushOpacity;
    if (t.pack && studio.packs.some((p) => p.name === t.pack)) studio.selectPack(t.pack);
  }
  studio.notice = { kind: 'info', text: `Recovered ${session.name} from ${new Date(session.savedAt).toLocaleTimeString()}.` };
  return true;
}
