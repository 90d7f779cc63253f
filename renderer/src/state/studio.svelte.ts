/**
 * The app's reactive state and commands: a thin runes facade over the plain-TS editor core
 * (document, history, brush, view maths) and the engine client. Pixels stay in the core's
 * plain classes; only small values and `$state.raw` references are reactive.
 */
import type { AppInfo, CodiApi, EngineStatus, ErrorInfo, ImageFormat, JobProgress, LinkState, ListPacksResponse, PackInfo, RunToolRequest } from '../engine-client/index.ts';
import type { EngineConnection } from '../engine-client/index.ts';
import type { JobHandle } from '../engine-client/jobs.ts';
import { JobTracker } from '../engine-client/jobs.ts';
import type { RgbaImage } from '../editor/document.ts';
import { defaultSavePath, ImageDocument, makeRgba } from '../editor/document.ts';
import { History } from '../editor/history.ts';
import { clearMask, invertMask } from '../editor/maskActions.ts';
import { PanGesture } from '../editor/panGesture.ts';
import { BrushTool } from '../editor/tools/brushTool.ts';
import type { Size, View } from '../editor/view.ts';
import { actualSizeView, fitView, identityView, zoomAt } from '../editor/view.ts';
import type { Result } from '../engine-client/index.ts';
import { encodePng } from './encodePng.ts';

export type CompareMode = 'after' | 'before' | 'split';

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
  #docIds: string[] = [];
  #brush: BrushTool | null = null;
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
  brushSize = $state(48);
  brushHardness = $state(0.8);
  maskVersion = $state(0);
  /** Updated at stroke ends and mask commands, not per dab (a full scan is O(pixels)). */
  maskEmpty = $state(true);

  view = $state.raw<View>(identityView);
  viewport = $state.raw<Size>({ width: 800, height: 600 });

  saveOpen = $state(false);
  openPathOpen = $state(false);
  helpOpen = $state(false);

  constructor(conn: EngineConnection) {
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

  get maxSteps(): number {
    return Math.max(1, Math.min(4, this.pack?.steps.max ?? 4));
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
    if (this.job) return 'A job is running.';
    if (this.link !== 'open') return 'Not connected to the engine.';
    if (this.engine.state !== 'ready') return `The engine is ${this.engine.state}.`;
    if (this.loading) return this.loading;
    if (this.needsMask && this.maskEmpty) return 'Paint a mask over the area to fill.';
    return null;
  }

  get brush(): BrushTool | null {
    return this.#brush;
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
      const first = this.tools.find((p) => p.status === 'ok') ?? this.tools[0];
      if (first) this.selectPack(first.name);
    }
  }

  selectPack(name: string): void {
    const p = this.tools.find((x) => x.name === name);
    if (!p) return;
    this.selectedPack = name;
    this.steps = Math.min(Math.max(1, p.steps.default), Math.max(1, Math.min(4, p.steps.max)));
    this.invalidate();
  }

  // ───────────── documents ─────────────

  async openBytes(bytes: Uint8Array, name: string): Promise<void> {
    await this.#open({ source: 'bytes', bytes, name }, name, null);
  }

  async openPath(path: string): Promise<void> {
    const name = path.split(/[/\\]/).pop() || path;
    await this.#open({ source: 'path', path }, name, path);
  }

  /** Electron: native dialog. Returns false when there is no native dialog (web mode). */
  async pickAndOpen(): Promise<boolean> {
    if (!this.appInfo?.nativeDialogs) return false;
    const r = await this.api.pickOpenPath({});
    if (r.ok && r.value.path) await this.openPath(r.value.path);
    return true;
  }

  async #open(req: { source: 'path'; path: string } | { source: 'bytes'; bytes: Uint8Array; name: string }, name: string, path: string | null): Promise<void> {
    if (this.job) {
      this.notice = { kind: 'error', text: 'Wait for the running job to finish (or cancel it) before opening another image.' };
      return;
    }
    this.loading = `Opening ${name}…`;
    try {
      const opened = await this.api.openImage(req);
      if (!opened.ok) {
        this.notice = { kind: 'error', text: describeError(opened.error, `open ${name}`) };
        return;
      }
      const px = await this.api.getImagePixels({ imageId: opened.value.imageId });
      if (!px.ok) {
        this.notice = { kind: 'error', text: describeError(px.error, `read the pixels of ${name}`) };
        return;
      }
      const img = makeRgba(px.value.width, px.value.height, new Uint8ClampedArray(px.value.rgba.buffer, px.value.rgba.byteOffset, px.value.rgba.byteLength));
      this.#releaseDocImages();
      this.#ids.set(img, opened.value.imageId);
      this.#docIds = [opened.value.imageId];
      this.#setDoc(new ImageDocument(opened.value.metadata.name || name, path, img));
      this.notice = { kind: 'info', text: `Opened ${name} (${img.width} × ${img.height})` };
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
    this.doc = doc;
    this.docVersion++;
    this.compare = 'after';
    this.lastNotes = [];
    this.maskEmpty = doc.mask.isEmpty();
    doc.subscribe(() => {
      this.docVersion++;
      this.maskEmpty = doc.mask.isEmpty();
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
    b.setMode(this.brushMode);
    b.onDirty = () => {
      this.maskVersion++;
      this.invalidate();
    };
    this.#brush = b;
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
    this.brushMode = m;
    this.#brush?.setMode(m);
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

  invertMask(): void {
    if (this.doc) invertMask(this.doc.mask, this.history, () => this.#maskChanged());
  }

  #maskChanged(): void {
    this.maskEmpty = this.doc?.mask.isEmpty() ?? true;
    this.maskVersion++;
    this.invalidate();
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
    this.canUndo = this.history.canUndo;
    this.canRedo = this.history.canRedo;
    this.undoLabel = this.history.undoLabel;
    this.redoLabel = this.history.redoLabel;
  }

  // ───────────── jobs ─────────────

  async run(): Promise<void> {
    const doc = this.doc;
    const pack = this.pack;
    if (!doc || !pack || !this.canRun) return;
    if (pack.task === 'inpaint' && doc.mask.isEmpty()) {
      this.notice = { kind: 'error', text: 'Paint a mask over the area to fill first (B for the brush).' };
      return;
    }
    const req: RunToolRequest = {
      tool: pack.task === 'backbone' ? 'restore' : pack.task,
      pack: pack.name,
      imageId: '',
      steps: this.steps,
      seed: this.seed,
    };
    if (pack.takesText && this.prompt.trim()) req.prompt = this.prompt.trim();
    if (pack.task === 'restore') req.scale = pack.upscale;
    if (pack.task === 'inpaint') req.mask = { width: doc.mask.width, height: doc.mask.height, data: doc.mask.data.slice() };
    this.notice = null;
    this.lastNotes = [];
    this.job = { jobId: '', packTitle: pack.title, progress: null, startedAt: performance.now(), cancelling: false };
    const started = await this.#withImage(doc.image, (imageId) =>
      this.jobs.start({ ...req, imageId }, (p) => {
        if (this.job && this.job.jobId === p.jobId) this.job = { ...this.job, progress: p };
      }),
    );
    if (!started.ok) {
      this.job = null;
      this.notice = { kind: 'error', text: describeError(started.error, `start ${pack.title}`) };
      return;
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
      return;
    }
    const done = outcome.done;
    const px = await this.api.getImagePixels({ imageId: done.resultImageId });
    this.job = null;
    if (!px.ok) {
      this.notice = { kind: 'error', text: describeError(px.error, 'fetch the result') };
      return;
    }
    if (this.doc !== doc) return; // Another image was opened meanwhile; the result belongs to the old one.
    const img = makeRgba(px.value.width, px.value.height, new Uint8ClampedArray(px.value.rgba.buffer, px.value.rgba.byteOffset, px.value.rgba.byteLength));
    this.#ids.set(img, done.resultImageId);
    this.#docIds.push(done.resultImageId);
    const sizeChanged = img.width !== doc.width || img.height !== doc.height;
    doc.applyResult(img, pack.title, this.history);
    this.compare = 'after';
    this.lastNotes = done.notes;
    this.notice = { kind: 'info', text: `${pack.title} done in ${(done.elapsedMs / 1000).toFixed(1)} s${sizeChanged ? ` → ${img.width} × ${img.height}` : ''}.` };
    if (sizeChanged) this.fit();
  }

  async cancel(): Promise<void> {
    const h = this.#handle;
    if (!h || !this.job || this.job.cancelling) return;
    this.job = { ...this.job, cancelling: true };
    await h.cancel();
  }

  // ───────────── saving ─────────────

  defaultSavePath(ext: string): string {
    return this.doc ? defaultSavePath(this.doc, ext) : `image-codi.${ext}`;
  }

  async save(path: string, format: ImageFormat, quality: number, keepMetadata: boolean, overwrite: boolean): Promise<{ ok: true; path: string; bytes: number } | { ok: false; exists: boolean; message: string }> {
    const doc = this.doc;
    if (!doc) return { ok: false, exists: false, message: 'Nothing to save.' };
    const r = await this.#withImage(doc.image, (imageId) => this.api.saveImage({ imageId, path, format, quality, keepMetadata, overwrite }));
    if (!r.ok) return { ok: false, exists: r.error.code === 'exists', message: r.error.code === 'exists' ? r.error.message : describeError(r.error, 'save') };
    this.notice = { kind: 'info', text: `Saved ${r.value.path} (${Math.max(1, Math.round(r.value.bytes / 1024))} KB)` };
    return { ok: true, path: r.value.path, bytes: r.value.bytes };
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
