/**
 * The app's reactive state and commands: a thin runes facade over the plain-TS editor core
 * (document, history, brush, view maths) and the engine client. Pixels stay in the core's
 * plain classes; only small values and `$state.raw` references are reactive.
 */
import type { AppInfo, BatchProgress, StartBatchRequest, CodiApi, EngineStatus, ErrorInfo, ImageFormat, JobProgress, LinkState, ListPacksResponse, PackInfo, RunToolRequest } from '../engine-client/index.ts';
import type { EngineConnection } from '../engine-client/index.ts';
import type { JobHandle } from '../engine-client/jobs.ts';
import { JobTracker } from '../engine-client/jobs.ts';
import type { RgbaImage } from '../editor/document.ts';
import { defaultSavePath, ImageDocument, makeRgba } from '../editor/document.ts';
import { History } from '../editor/history.ts';
import type { MaskAdjust } from '../editor/maskActions.ts';
import { adjustedMask, adjustLabel, clearMask, invertMask, replaceMask } from '../editor/maskActions.ts';
import { maskToRgba, rgbaToMask } from '../editor/maskPng.ts';
import type { Rect } from '../editor/geometry.ts';
import { unionRect } from '../editor/geometry.ts';
import { PanGesture } from '../editor/panGesture.ts';
import { BrushTool } from '../editor/tools/brushTool.ts';
import { SelectionTool } from '../editor/tools/selectionTool.ts';
import type { KeyValueStore } from './recentFiles.ts';
import { addRecent, readRecent, removeRecent } from './recentFiles.ts';
import type { Size, View } from '../editor/view.ts';
import { actualSizeView, fitView, identityView, zoomAt } from '../editor/view.ts';
import type { Result } from '../engine-client/index.ts';
import { encodePng } from './encodePng.ts';
import { allowedSteps } from '../../../core/packs/step-limit.ts';
import { defaultInstruction, defaultTool } from './toolDefaults.ts';
import { shortcutKeys } from '../editor/shortcuts.ts';
import { depthMapProblem } from '../../../core/image/depth-map.ts';
import { maskFit, resizeMask } from '../../../core/image/mask-size.ts';

export type CompareMode = 'after' | 'before' | 'split';

/** The active mask tool: brush and eraser paint, lasso and rectangle fill outlines. */
export type MaskTool = 'brush' | 'eraser' | 'lasso' | 'rect';

/** One result of a variations run (same settings, consecutive seeds). */
export interface Variation {
  readonly seed: number;
  readonly image: RgbaImage;
  readonly imageId: string;
  /** Small preview as an object URL (revoked when the set is discarded). */
  readonly thumb: string;
}

/** Number of seeds a variations run tries. */
export const VARIATION_COUNTS = [2, 3, 4, 6] as const;

/** What the status line / toast shows. */
export interface Notice {
  readonly kind: 'info' | 'error';
  readonly text: string;
}

/** The running job as the UI shows it. */
export interface JobView {
  readonly jobId: string;
  readonly packTitle: string;
  readonly progress: JobProgress | null;
  readonly startedAt: number;
  readonly cancelling: boolean;
}

export const SAVE_FORMATS: readonly { readonly id: ImageFormat; readonly label: string; readonly ext: string; readonly lossy: boolean }[] = [
  { id: 'png', label: 'PNG (lossless)', ext: 'png', lossy: false },
  { id: 'jpeg', label: 'JPEG', ext: 'jpg', lossy: true },
  { id: 'webp', label: 'WebP', ext: 'webp', lossy: true },
  { id: 'tiff', label: 'TIFF', ext: 'tiff', lossy: false },
  { id: 'avif', label: 'AVIF', ext: 'avif', lossy: true },
];

export const TASK_LABELS: Record<string, string> = {
  restore: 'Restore / upscale',
  inpaint: 'Inpaint (fill masked area)',
  edit: 'Edit by instruction',
  depth: 'Depth to image',
  custom: 'Personal style',
};

function describeError(e: ErrorInfo, what: string): string {
  switch (e.code) {
    case 'engine-crashed':
      return `The engine stopped unexpectedly and could not ${what}. It restarts by itself; please try again.`;
    case 'engine-unavailable':
      return `The engine is not available right now (${e.message}). Wait until it is ready, then try again.`;
    default:
      return `Could not ${what}: ${e.message}`;
  }
}

export class Studio {
  readonly conn: EngineConnection;
  readonly api: CodiApi;
  readonly jobs: JobTracker;
  readonly history = new History();
  readonly pan = new PanGesture();
  /** Engine image id of every RgbaImage the engine holds (undo can bring any of them back). */
  readonly #ids = new WeakMap<RgbaImage, string>();
  /** Why an image cannot serve as a depth map (core rule), per image: the scan is O(pixels). */
  readonly #depthProblems = new WeakMap<RgbaImage, string | null>();
  #docIds: string[] = [];
  #brush: BrushTool | null = null;
  #selection: SelectionTool | null = null;
  /** Mask area whose overlay pixels are stale ('all' after whole-mask edits and swaps). */
  #overlayDirty: Rect | 'all' = 'all';
  #cancelVariations = false;
  readonly #storage: KeyValueStore | null;
  #handle: JobHandle | null = null;
  #unsubs: (() => void)[] = [];
  /** Redraw request for the canvas (set by the canvas component). */
  invalidate: () => void = () => {};

  appInfo = $state.raw<AppInfo | null>(null);
  link = $state<LinkState>('open');
  engine = $state.raw<EngineStatus>({ state: 'starting' });
  provider = $state.raw<ListPacksResponse['provider'] | null>(null);
  packs = $state.raw<PackInfo[]>([]);
  packsLoaded = $state(false);
  selectedPack = $state<string | null>(null);
  steps = $state(4);
  prompt = $state('');
  seed = $state(0);

  doc = $state.raw<ImageDocument | null>(null);
  docVersion = $state(0);
  loading = $state<string | null>(null);
  job = $state.raw<JobView | null>(null);
  notice = $state.raw<Notice | null>(null);
  lastNotes = $state.raw<string[]>([]);
  compare = $state<CompareMode>('after');
  split = $state(0.5);
  canUndo = $state(false);
  canRedo = $state(false);
  undoLabel = $state<string | null>(null);
  redoLabel = $state<string | null>(null);

  brushMode = $state<'paint' | 'erase'>('paint');
  maskTool = $state<MaskTool>('brush');
  brushSize = $state(48);
  brushHardness = $state(0.8);
  brushOpacity = $state(1);
  overlayColor = $state('#ff308c');
  overlayOpacity = $state(0.5);
  /** Grow/shrink/feather being previewed (the overlay shows `maskPreview` until applied). */
  adjust = $state.raw<MaskAdjust | null>(null);
  maskPreview = $state.raw<Uint8Array | null>(null);
  /** 100 % magnifier that follows the cursor. */
  loupe = $state(false);
  /** Blend of the result over the original, 0..1 (edit / restore). */
  strength = $state(1);
  variationCount = $state<number>(4);
  variations = $state.raw<Variation[]>([]);
  variationsRunning = $state<{ done: number; total: number } | null>(null);
  historyUsed = $state(0);
  historyLimit = $state(0);
  recent = $state.raw<string[]>([]);
  /** Depth tool: a separately loaded depth map (else the image itself is the depth map). */
  depthMap = $state.raw<{ imageId: string; name: string; width: number; height: number; bitDepth: number } | null>(null);
  maskVersion = $state(0);
  /** Updated at stroke ends and mask commands, not per dab (a full scan is O(pixels)). */
  maskEmpty = $state(true);
  /** The mask overlay is drawn; hidden after a result so the user sees it (H toggles). */
  maskShown = $state(true);

  view = $state.raw<View>(identityView);
  viewport = $state.raw<Size>({ width: 800, height: 600 });

  /** The last batch's progress (kept after it ends for its report). */
  batch = $state.raw<BatchProgress | null>(null);
  batchOpen = $state(false);
  /** The Adapters panel (personal adapters from before/after pairs). */
  adaptersOpen = $state(false);
  saveOpen = $state(false);
  openPathOpen = $state(false);
  helpOpen = $state(false);

  constructor(conn: EngineConnection, storage: KeyValueStore | null = globalThis.localStorage ?? null) {
    this.#storage = storage;
    this.recent = storage ? readRecent(storage) : [];
    this.historyLimit = this.history.maxBytes;
    this.conn = conn;
    this.api = conn.api;
    this.jobs = new JobTracker(conn.api);
    this.#unsubs.push(
      this.history.subscribe(() => this.#syncHistory()),
      conn.onLink((s) => {
        const was = this.link;
        this.link = s;
        if (s === 'open' && was !== 'open') void this.refresh();
      }),
      conn.api.onEvent((e) => {
        if (e.type === 'batch-progress') {
          if (!this.batch || this.batch.batchId === e.batch.batchId) this.batch = e.batch;
          return;
        }
        if (e.type !== 'engine-status') return;
        const before = this.engine.state;
        this.engine = e.status;
        if (e.status.state === 'ready' && before !== 'ready') void this.loadPacks();
      }),
    );
  }

  dispose(): void {
    for (const u of this.#unsubs) u();
    this.jobs.dispose();
  }

  // ───────────── derived ─────────────

  /**
   * Reactive view of the document's shape. The document is a plain class, so reading it
   * through docVersion is what makes templates update after a result or an undo.
   */
  get docInfo(): { name: string; width: number; height: number; hasBefore: boolean } | null {
    void this.docVersion;
    const d = this.doc;
    return d ? { name: d.name, width: d.width, height: d.height, hasBefore: d.before !== null } : null;
  }

  /** Packs the user can run (backbones are building blocks, not tools). */
  get tools(): PackInfo[] {
    return this.packs.filter((p) => p.task !== 'backbone');
  }

  get pack(): PackInfo | null {
    return this.tools.find((p) => p.name === this.selectedPack) ?? null;
  }

  /** The step counts the step control offers: 1 … the pack's manifest limit (core/packs/step-limit.ts), as codi run and the engine allow. */
  get stepChoices(): number[] {
    return allowedSteps(this.pack?.steps.max ?? 1);
  }

  /** Upscale factors offered for the selected restore tool (one restore pack per factor). */
  get scaleChoices(): { scale: number; pack: string | null }[] {
    const restore = this.tools.filter((p) => p.task === 'restore' && p.status === 'ok');
    return [1, 2, 4].map((s) => ({ scale: s, pack: restore.find((p) => p.upscale === s)?.name ?? null }));
  }

  get needsMask(): boolean {
    return this.pack?.task === 'inpaint';
  }

  get canRun(): boolean {
    return this.runBlocker === null;
  }

  /** Why Run is disabled, for the button's description. */
  get runBlocker(): string | null {
    if (!this.doc) return 'Open an image first.';
    if (!this.pack) return 'Choose a tool.';
    if (this.pack.status !== 'ok') return this.pack.problem ?? 'This tool failed verification.';
    if (this.job || this.variationsRunning) return 'A job is running.';
    if (this.link !== 'open') return 'Not connected to the engine.';
    if (this.engine.state !== 'ready') return `The engine is ${this.engine.state}.`;
    if (this.loading) return this.loading;
    if (this.needsMask && this.maskEmpty) return 'Paint a mask over the area to fill.';
    if (this.pack.takesText && this.pack.instructions.length > 0 && !this.prompt.trim()) return 'Type an instruction, or pick a suggestion.';
    if (this.pack.task === 'depth' && !this.depthMap) {
      const why = this.#depthProblem(this.doc.image);
      if (why) return `${why.charAt(0).toUpperCase()}${why.slice(1)}. Load one with “Load depth map…”.`;
    }
    return null;
  }

  #depthProblem(img: RgbaImage): string | null {
    let why = this.#depthProblems.get(img);
    if (why === undefined) {
      why = depthMapProblem({ width: img.width, height: img.height, channels: 4, maxValue: 255, pixels: img.data });
      this.#depthProblems.set(img, why);
    }
    return why;
  }

  get brush(): BrushTool | null {
    return this.#brush;
  }

  get selection(): SelectionTool | null {
    return this.#selection;
  }

  /** The overlay area to repaint since the last call (the canvas redraws only that). */
  takeOverlayDirty(): Rect | 'all' {
    const d = this.#overlayDirty;
    this.#overlayDirty = { x0: 0, y0: 0, x1: 0, y1: 0 };
    return d;
  }

  #markOverlay(r: Rect | 'all'): void {
    this.#overlayDirty = r === 'all' || this.#overlayDirty === 'all' ? 'all' : unionRect(this.#overlayDirty, r);
  }

  // ───────────── engine ─────────────

  async refresh(): Promise<void> {
    const info = await this.api.getAppInfo({});
    if (info.ok) this.appInfo = info.value;
    await this.loadPacks();
  }

  async loadPacks(): Promise<void> {
    const r = await this.api.listPacks({});
    if (!r.ok) {
      // While the server link is down the reconnect will list again; no need to alarm the user.
      if (this.link === 'open') this.notice = { kind: 'error', text: describeError(r.error, 'list the installed tools') };
      return;
    }
    this.packs = r.value.packs;
    this.provider = r.value.provider;
    this.packsLoaded = true;
    // Listing succeeded, so the engine answers requests even if no status event came yet.
    if (this.engine.state === 'starting') this.engine = { state: 'ready', provider: r.value.provider.active };
    if (!this.pack) {
      const first = defaultTool(this.tools);
      if (first) this.selectPack(first.name);
    }
  }

  selectPack(name: string): void {
    const p = this.tools.find((x) => x.name === name);
    if (!p) return;
    this.selectedPack = name;
    this.steps = Math.min(Math.max(1, p.steps.default), Math.max(1, p.steps.max));
    if (!this.prompt.trim()) this.prompt = defaultInstruction(p) ?? '';
    this.invalidate();
  }

  // ───────────── documents ─────────────

  async openBytes(bytes: Uint8Array, name: string): Promise<void> {
    await this.#open({ source: 'bytes', bytes, name }, name, null);
  }

  async openPath(path: string): Promise<void> {
    const name = path.split(/[/\\]/).pop() || path;
    const ok = await this.#open({ source: 'path', path }, name, path);
    if (this.#storage) this.recent = ok ? addRecent(this.#storage, path) : this.recent;
  }

  forgetRecent(path: string): void {
    if (this.#storage) this.recent = removeRecent(this.#storage, path);
  }

  /** Electron: native dialog. Returns false when there is no native dialog (web mode). */
  async pickAndOpen(): Promise<boolean> {
    if (!this.appInfo?.nativeDialogs) return false;
    const r = await this.api.pickOpenPath({});
    if (r.ok && r.value.path) await this.openPath(r.value.path);
    return true;
  }

  async #open(req: { source: 'path'; path: string } | { source: 'bytes'; bytes: Uint8Array; name: string }, name: string, path: string | null): Promise<boolean> {
    if (this.job || this.variationsRunning) {
      this.notice = { kind: 'error', text: 'Wait for the running job to finish (or cancel it) before opening another image.' };
      return false;
    }
    this.loading = `Opening ${name}…`;
    try {
      const opened = await this.api.openImage(req);
      if (!opened.ok) {
        this.notice = { kind: 'error', text: describeError(opened.error, `open ${name}`) };
        return false;
      }
      const px = await this.api.getImagePixels({ imageId: opened.value.imageId });
      if (!px.ok) {
        this.notice = { kind: 'error', text: describeError(px.error, `read the pixels of ${name}`) };
        return false;
      }
      const img = makeRgba(px.value.width, px.value.height, new Uint8ClampedArray(px.value.rgba.buffer, px.value.rgba.byteOffset, px.value.rgba.byteLength));
      this.#releaseDocImages();
      this.#ids.set(img, opened.value.imageId);
      this.#docIds = [opened.value.imageId];
      this.#setDoc(new ImageDocument(opened.value.metadata.name || name, path, img));
      this.notice = { kind: 'info', text: `Opened ${name} (${img.width} × ${img.height})` };
      return true;
    } finally {
      this.loading = null;
    }
  }

  /**
   * Run a request that needs the current image in the engine. If the engine no longer has it
   * (it restarted and the image was a job result), upload the pixels again and retry once.
   */
  async #withImage<T>(img: RgbaImage, fn: (imageId: string) => Promise<Result<T>>): Promise<Result<T>> {
    const id = this.#ids.get(img);
    if (id) {
      const r = await fn(id);
      if (r.ok || r.error.code !== 'not-found' || !r.error.message.includes(id)) return r;
    }
    let bytes: Uint8Array;
    try {
      bytes = await encodePng(img);
    } catch (err) {
      return { ok: false, error: { code: 'internal', message: `could not re-send the image to the engine: ${(err as Error).message}` } };
    }
    const opened = await this.api.openImage({ source: 'bytes', bytes, name: this.doc?.name ?? 'image.png' });
    if (!opened.ok) return opened;
    this.#ids.set(img, opened.value.imageId);
    this.#docIds.push(opened.value.imageId);
    return fn(opened.value.imageId);
  }

  #releaseDocImages(): void {
    for (const id of this.#docIds) void this.api.releaseImage({ imageId: id });
    this.#docIds = [];
  }

  #setDoc(doc: ImageDocument): void {
    this.history.clear();
    this.#discardVariations();
    this.cancelAdjust();
    this.doc = doc;
    this.docVersion++;
    this.compare = 'after';
    this.lastNotes = [];
    this.maskEmpty = doc.mask.isEmpty();
    doc.subscribe(() => {
      this.docVersion++;
      this.maskEmpty = doc.mask.isEmpty();
      this.#markOverlay('all');
      this.#bindBrush();
      this.invalidate();
    });
    this.#bindBrush();
    this.fit();
  }

  #bindBrush(): void {
    const doc = this.doc;
    if (!doc) return;
    const b = new BrushTool(doc.mask, this.history);
    b.setSize(this.brushSize);
    b.setHardness(this.brushHardness);
    b.setOpacity(this.brushOpacity);
    b.setMode(this.brushMode);
    const onDirty = (r: Rect): void => {
      this.maskShown = true;
      this.#markOverlay(r);
      this.maskVersion++;
      this.invalidate();
    };
    b.onDirty = onDirty;
    this.#brush = b;
    const sel = new SelectionTool(doc.mask, this.history, this.maskTool === 'rect' ? 'rect' : 'lasso');
    sel.onDirty = (r) => {
      onDirty(r);
      this.maskEmpty = doc.mask.isEmpty();
    };
    this.#selection = sel;
    this.#markOverlay('all');
  }

  // ───────────── view ─────────────

  setViewport(size: Size): void {
    if (this.viewport.width === size.width && this.viewport.height === size.height) return;
    this.viewport = size;
    this.invalidate();
  }

  fit(): void {
    if (this.doc) this.view = fitView(this.doc, this.viewport);
    this.invalidate();
  }

  actualSize(): void {
    if (this.doc) this.view = actualSizeView(this.doc, this.viewport);
    this.invalidate();
  }

  zoomBy(factor: number): void {
    this.view = zoomAt(this.view, this.view.zoom * factor, { x: this.viewport.width / 2, y: this.viewport.height / 2 });
    this.invalidate();
  }

  setView(v: View): void {
    this.view = v;
    this.invalidate();
  }

  // ───────────── mask ─────────────

  setBrushMode(m: 'paint' | 'erase'): void {
    this.setMaskTool(m === 'paint' ? 'brush' : 'eraser');
  }

  setMaskTool(t: MaskTool): void {
    this.maskShown = true;
    this.#brush?.cancel();
    this.#selection?.cancel();
    this.maskTool = t;
    if (t === 'brush' || t === 'eraser') {
      this.brushMode = t === 'brush' ? 'paint' : 'erase';
      this.#brush?.setMode(this.brushMode);
    } else if (this.#selection) {
      this.#selection.shape = t;
    }
    this.invalidate();
  }

  setBrushOpacity(o: number): void {
    this.#brush?.setOpacity(o);
    this.brushOpacity = this.#brush?.settings.opacity ?? o;
  }

  setOverlay(color: string, opacity: number): void {
    this.overlayColor = /^#[0-9a-f]{6}$/i.test(color) ? color : this.overlayColor;
    this.overlayOpacity = Math.min(1, Math.max(0.05, opacity));
    this.#markOverlay('all');
    this.maskVersion++;
    this.invalidate();
  }

  setBrushSize(s: number): void {
    this.#brush?.setSize(s);
    this.brushSize = this.#brush?.settings.size ?? s;
    this.invalidate();
  }

  setBrushHardness(h: number): void {
    this.#brush?.setHardness(h);
    this.brushHardness = this.#brush?.settings.hardness ?? h;
  }

  nudgeBrush(direction: -1 | 1, hardness: boolean): void {
    const b = this.#brush;
    if (!b) return;
    b.nudge(direction, hardness);
    this.brushSize = b.settings.size;
    this.brushHardness = b.settings.hardness;
    this.invalidate();
  }

  clearMask(): void {
    if (this.doc) clearMask(this.doc.mask, this.history, () => this.#maskChanged());
  }

  /** Show or hide the mask overlay (the 'toggleMask' shortcut). */
  toggleMaskOverlay(): void {
    this.maskShown = !this.maskShown;
    this.invalidate();
  }

  invertMask(): void {
    this.maskShown = true;
    if (this.doc) invertMask(this.doc.mask, this.history, () => this.#maskChanged());
  }

  #maskChanged(): void {
    this.maskEmpty = this.doc?.mask.isEmpty() ?? true;
    this.#markOverlay('all');
    this.maskVersion++;
    this.invalidate();
  }

  /** Preview a grow/shrink/feather on a copy; the overlay shows it until apply or cancel. */
  previewAdjust(a: MaskAdjust): void {
    const doc = this.doc;
    if (!doc) return;
    this.maskShown = true;
    this.adjust = a;
    this.maskPreview = a.radius === 0 ? null : adjustedMask(doc.mask, a);
    this.#markOverlay('all');
    this.maskVersion++;
    this.invalidate();
  }

  applyAdjust(): void {
    const doc = this.doc;
    const a = this.adjust;
    if (doc && a && a.radius !== 0) {
      const next = this.maskPreview ?? adjustedMask(doc.mask, a);
      replaceMask(doc.mask, next, adjustLabel(a), this.history, () => this.#maskChanged());
    }
    this.cancelAdjust();
  }

  cancelAdjust(): void {
    if (!this.adjust && !this.maskPreview) return;
    this.adjust = null;
    this.maskPreview = null;
    this.#maskChanged();
  }

  /** The mask as a grey PNG (white = fill). */
  async maskPng(): Promise<Uint8Array | null> {
    const doc = this.doc;
    if (!doc) return null;
    return encodePng({ width: doc.width, height: doc.height, data: maskToRgba(doc.mask.data, doc.width, doc.height) });
  }

  /**
   * Load a mask picture (grey, or a cut-out with alpha), scaled to the image if its size
   * differs, as one undo step.
   */
  async loadMask(blob: Blob): Promise<void> {
    const doc = this.doc;
    if (!doc) return;
    let bmp: ImageBitmap;
    try {
      bmp = await createImageBitmap(blob);
    } catch {
      this.notice = { kind: 'error', text: 'Could not read that file as a mask picture.' };
      return;
    }
    // The engine's rule for a mask of another size (core/image/mask-size.ts): same shape is
    // scaled and said so, another shape is refused with both sizes.
    const size = { width: bmp.width, height: bmp.height };
    const fit = maskFit(size, doc);
    if (fit.kind === 'refuse') {
      bmp.close();
      this.notice = { kind: 'error', text: `Mask not loaded: ${fit.message}.` };
      return;
    }
    const c = new OffscreenCanvas(size.width, size.height);
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.drawImage(bmp, 0, 0);
    bmp.close();
    const own = rgbaToMask(ctx.getImageData(0, 0, size.width, size.height).data, size.width, size.height);
    const mask = fit.kind === 'scale' ? resizeMask(own, size, doc) : own;
    this.maskShown = true;
    replaceMask(doc.mask, mask, 'Load mask', this.history, () => this.#maskChanged());
    this.notice = { kind: 'info', text: fit.kind === 'scale' ? `Mask loaded: ${fit.note}.` : 'Mask loaded.' };
  }

  // ───────────── history ─────────────

  undo(): void {
    if (this.job) return;
    this.#brush?.cancel();
    this.history.undo();
    this.#maskChanged();
  }

  redo(): void {
    if (this.job) return;
    this.history.redo();
    this.#maskChanged();
  }

  #syncHistory(): void {
    this.maskEmpty = this.doc?.mask.isEmpty() ?? true;
    this.historyUsed = this.history.budget.used;
    this.historyLimit = this.history.budget.limit;
    this.canUndo = this.history.canUndo;
    this.canRedo = this.history.canRedo;
    this.undoLabel = this.history.undoLabel;
    this.redoLabel = this.history.redoLabel;
  }

  // ───────────── jobs ─────────────

  #request(pack: PackInfo, doc: ImageDocument, seed: number): RunToolRequest {
    const req: RunToolRequest = {
      tool: pack.task === 'backbone' ? 'restore' : pack.task,
      pack: pack.name,
      imageId: '',
      steps: this.steps,
      seed,
    };
    if (pack.takesText && this.prompt.trim()) req.prompt = this.prompt.trim();
    if (pack.task === 'restore') req.scale = pack.upscale;
    if (pack.task === 'inpaint') req.mask = { width: doc.mask.width, height: doc.mask.height, data: doc.mask.data.slice() };
    if ((pack.task === 'edit' || pack.task === 'restore' || pack.task === 'custom') && this.strength < 1) req.strength = this.strength;
    if (pack.task === 'depth' && this.depthMap) req.condition = this.depthMap.imageId;
    return req;
  }

  /** Run one job on the current image; resolves with the result pixels, or null (error shown). */
  async #runJob(pack: PackInfo, doc: ImageDocument, req: RunToolRequest): Promise<{ img: RgbaImage; imageId: string; elapsedMs: number; notes: string[] } | null> {
    this.job = { jobId: '', packTitle: pack.title, progress: null, startedAt: performance.now(), cancelling: false };
    const started = await this.#withImage(doc.image, (imageId) =>
      this.jobs.start({ ...req, imageId }, (p) => {
        if (this.job && this.job.jobId === p.jobId) this.job = { ...this.job, progress: p };
      }),
    );
    if (!started.ok) {
      this.job = null;
      this.notice = { kind: 'error', text: describeError(started.error, `start ${pack.title}`) };
      return null;
    }
    this.#handle = started.value;
    this.job = { ...this.job, jobId: started.value.jobId };
    const outcome = await started.value.outcome;
    this.#handle = null;
    if (outcome.kind === 'failed') {
      this.job = null;
      const f = outcome.failed;
      this.notice = f.cancelled || f.code === 'cancelled'
        ? { kind: 'info', text: `${pack.title} cancelled.` }
        : f.code === 'engine-crashed'
          ? { kind: 'error', text: `The engine stopped unexpectedly while running ${pack.title}, so it did not finish. The engine restarts by itself; you can run the tool again once it is ready.` }
          : { kind: 'error', text: describeError({ code: f.code, message: f.message }, `run ${pack.title}`) };
      return null;
    }
    const done = outcome.done;
    const px = await this.api.getImagePixels({ imageId: done.resultImageId });
    this.job = null;
    if (!px.ok) {
      this.notice = { kind: 'error', text: describeError(px.error, 'fetch the result') };
      return null;
    }
    const img = makeRgba(px.value.width, px.value.height, new Uint8ClampedArray(px.value.rgba.buffer, px.value.rgba.byteOffset, px.value.rgba.byteLength));
    this.#ids.set(img, done.resultImageId);
    this.#docIds.push(done.resultImageId);
    return { img, imageId: done.resultImageId, elapsedMs: done.elapsedMs, notes: done.notes };
  }

  async run(): Promise<void> {
    const doc = this.doc;
    const pack = this.pack;
    if (!doc || !pack || !this.canRun) return;
    if (pack.task === 'inpaint' && doc.mask.isEmpty()) {
      this.notice = { kind: 'error', text: 'Paint a mask over the area to fill first (B for the brush).' };
      return;
    }
    this.notice = null;
    this.lastNotes = [];
    this.#discardVariations();
    const r = await this.#runJob(pack, doc, this.#request(pack, doc, this.seed));
    if (!r || this.doc !== doc) return; // Another image was opened meanwhile; the result belongs to the old one.
    this.#accept(doc, r.img, pack.title, r.notes, `${pack.title} done in ${(r.elapsedMs / 1000).toFixed(1)} s`);
  }

  #accept(doc: ImageDocument, img: RgbaImage, label: string, notes: string[], text: string): void {
    const sizeChanged = img.width !== doc.width || img.height !== doc.height;
    doc.applyResult(img, label, this.history);
    this.compare = 'after';
    this.lastNotes = notes;
    // The mask would cover the result (inpaint fills exactly under it): hide it until asked for.
    const hideMask = !doc.mask.isEmpty() && this.maskShown;
    if (hideMask) this.maskShown = false;
    this.notice = { kind: 'info', text: `${text}${sizeChanged ? ` → ${img.width} × ${img.height}` : ''}.${hideMask ? ` Mask hidden to show the result (${shortcutKeys('toggleMask', false)} shows it).` : ''}` };
    if (sizeChanged) this.fit();
  }

  /**
   * Variations: the same request with seeds seed … seed+N−1, one job after another; the
   * results are offered side by side and nothing enters history until one is picked.
   */
  async runVariations(): Promise<void> {
    const doc = this.doc;
    const pack = this.pack;
    if (!doc || !pack || !this.canRun) return;
    this.#discardVariations();
    this.notice = null;
    const n = this.variationCount;
    const found: Variation[] = [];
    this.#cancelVariations = false;
    this.variationsRunning = { done: 0, total: n };
    try {
      for (let i = 0; i < n && !this.#cancelVariations; i++) {
        const seed = (this.seed + i) >>> 0;
        const r = await this.#runJob(pack, doc, this.#request(pack, doc, seed));
        if (!r || this.doc !== doc) break;
        found.push({ seed, image: r.img, imageId: r.imageId, thumb: await thumbnailUrl(r.img, 160) });
        this.variations = [...found];
        this.variationsRunning = { done: i + 1, total: n };
      }
    } finally {
      this.variationsRunning = null;
    }
    if (found.length > 0) this.notice = { kind: 'info', text: `${found.length} variation${found.length === 1 ? '' : 's'} ready: pick one.` };
  }

  /** Make variation `i` the current image (one history step) and close the set. */
  pickVariation(i: number): void {
    const doc = this.doc;
    const v = this.variations[i];
    const pack = this.pack;
    if (!doc || !v) return;
    this.seed = v.seed;
    this.#accept(doc, v.image, `${pack?.title ?? 'Result'} (seed ${v.seed})`, [], `Picked the variation with seed ${v.seed}`);
    this.#discardVariations();
  }

  discardVariations(): void {
    this.#discardVariations();
  }

  #discardVariations(): void {
    this.#cancelVariations = true;
    for (const v of this.variations) URL.revokeObjectURL(v.thumb);
    this.variations = [];
  }

  async cancel(): Promise<void> {
    this.#cancelVariations = true;
    const h = this.#handle;
    if (!h || !this.job || this.job.cancelling) return;
    this.job = { ...this.job, cancelling: true };
    await h.cancel();
  }

  /** Load an 8- or 16-bit depth map (near = bright) as the depth tool's condition. */
  async loadDepthMap(file: File): Promise<void> {
    const opened = await this.api.openImage({ source: 'bytes', bytes: new Uint8Array(await file.arrayBuffer()), name: file.name });
    if (!opened.ok) {
      this.notice = { kind: 'error', text: describeError(opened.error, `open the depth map ${file.name}`) };
      return;
    }
    if (this.depthMap) void this.api.releaseImage({ imageId: this.depthMap.imageId });
    const v = opened.value;
    this.depthMap = { imageId: v.imageId, name: file.name, width: v.width, height: v.height, bitDepth: v.metadata.bitDepth };
  }

  clearDepthMap(): void {
    if (this.depthMap) void this.api.releaseImage({ imageId: this.depthMap.imageId });
    this.depthMap = null;
  }

  // ───────────── batch ─────────────

  get batchActive(): boolean {
    return this.batch !== null && (this.batch.state === 'running' || this.batch.state === 'paused');
  }

  /** Start a folder batch in the broker; progress arrives as batch-progress events. */
  async startBatch(req: StartBatchRequest): Promise<string | null> {
    const r = await this.api.startBatch(req);
    if (!r.ok) return describeError(r.error, 'start the batch');
    this.batch = { batchId: r.value.batchId, state: 'running', done: 0, total: r.value.files, succeeded: 0, results: [] };
    return null;
  }

  async controlBatch(action: 'pause' | 'resume' | 'cancel'): Promise<void> {
    const b = this.batch;
    if (!b) return;
    const r = action === 'pause' ? await this.api.pauseBatch({ batchId: b.batchId }) : action === 'resume' ? await this.api.resumeBatch({ batchId: b.batchId }) : await this.api.cancelBatch({ batchId: b.batchId });
    if (!r.ok) this.notice = { kind: 'error', text: describeError(r.error, `${action} the batch`) };
    else if (this.batch?.batchId === b.batchId) this.batch = { ...this.batch, state: r.value.state };
  }

  // ───────────── saving ─────────────

  defaultSavePath(ext: string): string {
    return this.doc ? defaultSavePath(this.doc, ext, this.appInfo?.saveFolder) : defaultSavePath({ name: 'image', path: null }, ext, this.appInfo?.saveFolder);
  }

  /**
   * Save the current image. `exists`: the file is there (ask before replacing it); `original`:
   * the engine found the target is a file open as an original, which needs its own confirmation
   * (`replaceOriginal`), after which the engine keeps its old bytes and says where.
   */
  async save(path: string, format: ImageFormat, quality: number, keepMetadata: boolean, overwrite: boolean, replaceOriginal = false): Promise<{ ok: true; path: string; bytes: number; kept?: string } | { ok: false; exists: boolean; original: boolean; message: string }> {
    const doc = this.doc;
    if (!doc) return { ok: false, exists: false, original: false, message: 'Nothing to save.' };
    const r = await this.#withImage(doc.image, (imageId) => this.api.saveImage({ imageId, path, format, quality, keepMetadata, overwrite, replaceOriginal }));
    if (!r.ok) {
      const refused = r.error.code === 'exists' || r.error.code === 'is-original';
      return { ok: false, exists: r.error.code === 'exists', original: r.error.code === 'is-original', message: refused ? r.error.message : describeError(r.error, 'save') };
    }
    const k = r.value.keptOriginal;
    const kept = k ? (k.place === 'trash' ? `The original's previous file is in the trash: ${k.path}` : `The original's previous file was kept as ${k.path}`) : undefined;
    this.notice = { kind: 'info', text: `Saved ${r.value.path} (${Math.max(1, Math.round(r.value.bytes / 1024))} KB).${kept ? ` ${kept}` : ''}` };
    return { ok: true, path: r.value.path, bytes: r.value.bytes, ...(kept ? { kept } : {}) };
  }

  /**
   * Copy the current image to the system clipboard as PNG (the engine encodes it, so 16-bit
   * sources keep their exact 8-bit rounding). Browsers allow this only from a user gesture on
   * a secure context (localhost counts); otherwise the reason is shown.
   */
  async copyToClipboard(): Promise<boolean> {
    if (typeof ClipboardItem === 'undefined' || !navigator.clipboard?.write) {
      this.notice = { kind: 'error', text: 'Copying images is not permitted here (the page needs a secure context with clipboard access).' };
      return false;
    }
    // The item is handed over at once with a promised blob: browsers only allow the write while
    // the click's user activation lasts, and encoding goes through the engine first.
    const png = this.encode('png', 95, false).then((enc) => {
      if (!enc) throw new Error('the image could not be encoded');
      return new Blob([enc.bytes as Uint8Array<ArrayBuffer>], { type: 'image/png' });
    });
    try {
      await navigator.clipboard.write([new ClipboardItem({ 'image/png': png })]);
      this.notice = { kind: 'info', text: 'Copied the image to the clipboard.' };
      return true;
    } catch (err) {
      this.notice = { kind: 'error', text: `Could not copy to the clipboard: ${(err as Error).message}` };
      return false;
    }
  }

  /** Encoded bytes for a browser download (web mode). */
  async encode(format: ImageFormat, quality: number, keepMetadata: boolean): Promise<{ bytes: Uint8Array; mime: string } | null> {
    const doc = this.doc;
    if (!doc) return null;
    const r = await this.#withImage(doc.image, (imageId) => this.api.encodeImage({ imageId, format, quality, keepMetadata }));
    if (!r.ok) {
      this.notice = { kind: 'error', text: describeError(r.error, 'encode the image') };
      return null;
    }
    return r.value;
  }
}

/** Downscaled PNG object URL of an image for a thumbnail strip. */
async function thumbnailUrl(img: RgbaImage, maxSide: number): Promise<string> {
  const s = Math.min(1, maxSide / Math.max(img.width, img.height));
  const w = Math.max(1, Math.round(img.width * s));
  const h = Math.max(1, Math.round(img.height * s));
  const bmp = await createImageBitmap(new ImageData(img.data as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), { resizeWidth: w, resizeHeight: h, resizeQuality: 'medium' });
  const c = new OffscreenCanvas(w, h);
  c.getContext('2d')?.drawImage(bmp, 0, 0);
  bmp.close();
  return URL.createObjectURL(await c.convertToBlob({ type: 'image/png' }));
}
