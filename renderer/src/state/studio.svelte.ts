/**
 * The app's state, composed from its parts: the engine session, the tool settings, the
 * document with its history and view, the mask, jobs and variations, batch, saving, opening
 * and dialogs. Each part owns its rules; this class wires them together and holds the few
 * commands that span several (Run, undo, opening a document). Pixels stay in the editor
 * core's plain classes; only small values and `$state.raw` references are reactive.
 */
import { startIsDeterministic } from '../../../core/samplers/start.ts';
import type { CodiApi, EngineConnection } from '../engine-client/index.ts';
import type { ImageDocument, RgbaImage } from '../editor/document.ts';
import { shortcutKeys } from '../editor/shortcuts.ts';
import { BatchState } from './batch.svelte.ts';
import { DepthCondition } from './depthCondition.svelte.ts';
import { Dialogs } from './dialogs.svelte.ts';
import { DocumentState } from './documentState.svelte.ts';
import { EngineSession } from './engineSession.svelte.ts';
import { ImageLedger } from './imageLedger.ts';
import type { JobResult } from './jobRunner.svelte.ts';
import { JobRunner } from './jobRunner.svelte.ts';
import { MaskEditor } from './maskEditor.svelte.ts';
import { ModelsState } from './models.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { Opener } from './opener.svelte.ts';
import type { KeyValueStore } from './recentFiles.ts';
import { buildRunRequest } from './runRequest.ts';
import { Saver } from './saving.ts';
import { ToolSettings } from './toolSettings.svelte.ts';
import { Variations } from './variations.svelte.ts';
import { ViewState } from './viewState.svelte.ts';

export class Studio {
  readonly api: CodiApi;
  readonly notices = new Notices();
  readonly session: EngineSession;
  readonly tool: ToolSettings;
  readonly document: DocumentState;
  readonly viewer: ViewState;
  readonly mask: MaskEditor;
  readonly ledger: ImageLedger;
  readonly runner: JobRunner;
  readonly variations = new Variations();
  readonly depth: DepthCondition;
  readonly batch: BatchState;
  /** The Models panel: packs pulled from the Hub, removed, verified. */
  readonly models: ModelsState;
  readonly saving: Saver;
  readonly opener: Opener;
  readonly dialogs = new Dialogs();
  /** Notes the engine attached to the last result. */
  lastNotes = $state.raw<string[]>([]);
  /** Redraw request for the canvas (set by the canvas component). */
  invalidate: () => void = () => {};

  constructor(conn: EngineConnection, storage: KeyValueStore | null = globalThis.localStorage ?? null) {
    const redraw = (): void => this.invalidate();
    const doc = (): ImageDocument | null => this.document.doc;
    this.api = conn.api;
    this.session = new EngineSession(conn, this.notices);
    this.tool = new ToolSettings(() => this.session.tools);
    this.session.onPacks = () => {
      if (this.tool.ensureSelected()) redraw();
    };
    this.document = new DocumentState({
      historyChanged: () => {
        this.mask.empty = this.document.doc?.mask.isEmpty() ?? true;
      },
      // A result (or undoing one) may bring another mask layer: rebind the tools to it, and drop a
      // grow/feather preview made from the mask before.
      docChanged: () => {
        this.mask.cancelAdjust();
        this.mask.bind();
        redraw();
      },
    });
    this.viewer = new ViewState(doc, redraw);
    this.mask = new MaskEditor(this.document.history, doc, this.notices, redraw);
    this.ledger = new ImageLedger(conn.api);
    this.runner = new JobRunner(conn.api, this.ledger, this.notices);
    this.depth = new DepthCondition(conn.api, this.notices);
    this.batch = new BatchState(conn.api, this.notices);
    this.models = new ModelsState(conn.api, this.notices, () => this.session.loadPacks());
    this.saving = new Saver({ api: conn.api, ledger: this.ledger, notices: this.notices, doc, appInfo: () => this.session.appInfo });
    this.opener = new Opener({
      api: conn.api,
      ledger: this.ledger,
      notices: this.notices,
      storage,
      busy: () => this.busy,
      appInfo: () => this.session.appInfo,
      show: (d) => this.#show(d),
    });
  }

  dispose(): void {
    this.session.dispose();
    this.batch.dispose();
    this.models.dispose();
    this.runner.dispose();
  }

  /** A job or a variations run is in progress. */
  get busy(): boolean {
    return this.runner.job !== null || this.variations.running !== null;
  }

  get canRun(): boolean {
    return this.runBlocker === null;
  }

  /** Why Variations is disabled: Run's reasons, or a tool whose result is the same for every seed. */
  get variationsBlocker(): string | null {
    const pack = this.tool.pack;
    if (this.runBlocker !== null || !pack) return this.runBlocker;
    if (startIsDeterministic(pack.startTemperature ?? 1, this.tool.steps)) {
      return `${pack.title} gives the same result for every seed at 1 step; raise the steps for variations.`;
    }
    return null;
  }

  /** Why Run is disabled, for the button's description. */
  get runBlocker(): string | null {
    const doc = this.document.doc;
    const pack = this.tool.pack;
    if (!doc) return 'Open an image first.';
    if (!pack) return 'Choose a tool.';
    if (pack.status !== 'ok') return pack.problem ?? 'This tool failed verification.';
    if (this.busy) return 'A job is running.';
    if (this.session.link !== 'open') return 'Not connected to the engine.';
    if (this.session.status.state !== 'ready') return `The engine is ${this.session.status.state}.`;
    if (this.opener.loading) return this.opener.loading;
    if (this.tool.needsMask && this.mask.empty) return 'Paint a mask over the area to fill.';
    if (pack.takesText && pack.instructions.length > 0 && !this.tool.prompt.trim()) return 'Type an instruction, or pick a suggestion.';
    if (pack.task === 'depth') return this.depth.blocker(doc.image);
    return null;
  }

  selectPack(name: string): void {
    if (this.tool.select(name)) this.invalidate();
  }

  undo(): void {
    if (this.runner.job) return;
    this.mask.brush?.cancel();
    this.document.undo();
    this.mask.changed();
  }

  redo(): void {
    if (this.runner.job) return;
    this.document.redo();
    this.mask.changed();
  }

  #show(doc: ImageDocument): void {
    this.variations.discard();
    this.mask.cancelAdjust();
    this.document.replace(doc);
    this.viewer.compare = 'after';
    this.lastNotes = [];
    this.mask.bind();
    this.viewer.fit();
  }

  /** One job of the selected tool on `doc` with `seed`; null when it failed or `doc` is no longer open. */
  async #runOne(doc: ImageDocument, seed: number): Promise<JobResult | null> {
    const pack = this.tool.pack;
    if (!pack) return null;
    const t = this.tool;
    const req = buildRunRequest(pack, { steps: t.steps, prompt: t.prompt, strength: t.strength, seed, mask: doc.mask, depthMapId: this.depth.map?.imageId ?? null });
    const r = await this.runner.run(pack, doc.image, doc.name, req);
    // Another image was opened meanwhile: the result belongs to the old one.
    return r && this.document.doc === doc ? r : null;
  }

  async run(): Promise<void> {
    const doc = this.document.doc;
    const pack = this.tool.pack;
    if (!doc || !pack || !this.canRun) return;
    if (pack.task === 'inpaint' && doc.mask.isEmpty()) {
      this.notices.error('Paint a mask over the area to fill first (B for the brush).');
      return;
    }
    this.notices.clear();
    this.lastNotes = [];
    this.variations.discard();
    const r = await this.#runOne(doc, this.tool.seed);
    if (r) this.#accept(doc, r.img, pack.title, r.notes, `${pack.title} done in ${(r.elapsedMs / 1000).toFixed(1)} s`);
  }

  async runVariations(): Promise<void> {
    const doc = this.document.doc;
    const why = this.variationsBlocker;
    if (!doc || !this.tool.pack || why !== null) {
      // the shortcut reaches here with the button disabled: say why nothing happens
      if (why !== null && this.runBlocker === null) this.notices.info(why);
      return;
    }
    this.notices.clear();
    const found = await this.variations.run(this.tool.seed, (seed) => this.#runOne(doc, seed));
    if (found > 0) this.notices.info(`${found} variation${found === 1 ? '' : 's'} ready: pick one.`);
  }

  /** Make variation `i` the current image (one history step) and close the set. */
  pickVariation(i: number): void {
    const doc = this.document.doc;
    const v = this.variations.list[i];
    if (!doc || !v) return;
    this.tool.seed = v.seed;
    this.#accept(doc, v.image, `${this.tool.pack?.title ?? 'Result'} (seed ${v.seed})`, [], `Picked the variation with seed ${v.seed}`);
    this.variations.discard();
  }

  async cancel(): Promise<void> {
    this.variations.stop();
    await this.runner.cancel();
  }

  #accept(doc: ImageDocument, img: RgbaImage, label: string, notes: string[], text: string): void {
    const sizeChanged = img.width !== doc.width || img.height !== doc.height;
    doc.applyResult(img, label, this.document.history);
    this.viewer.compare = 'after';
    this.lastNotes = notes;
    // The mask would cover the result (inpaint fills exactly under it): hide it until asked for.
    const hideMask = !doc.mask.isEmpty() && this.mask.shown;
    if (hideMask) this.mask.shown = false;
    this.notices.info(`${text}${sizeChanged ? ` → ${img.width} × ${img.height}` : ''}.${hideMask ? ` Mask hidden to show the result (${shortcutKeys('toggleMask', false)} shows it).` : ''}`);
    if (sizeChanged) this.viewer.fit();
  }
}
