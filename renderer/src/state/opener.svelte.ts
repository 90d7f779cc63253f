/**
 * Opening images: from bytes (drop, paste, file input), a path (typed, recent, or the native
 * dialog), with the recent-files list. A new image replaces the document only once the engine
 * has decoded it and its pixels arrived.
 */
import type { AppInfo, CodiApi } from '../engine-client/index.ts';
import { ImageDocument, makeRgba } from '../editor/document.ts';
import type { ImageLedger } from './imageLedger.ts';
import type { Notices } from './notices.svelte.ts';
import type { KeyValueStore } from './recentFiles.ts';
import { addRecent, readRecent, removeRecent } from './recentFiles.ts';

export interface OpenContext {
  readonly api: CodiApi;
  readonly ledger: ImageLedger;
  readonly notices: Notices;
  readonly storage: KeyValueStore | null;
  /** A job is running (its result belongs to the open image). */
  busy(): boolean;
  appInfo(): AppInfo | null;
  /** Make `doc` the open document. */
  show(doc: ImageDocument): void;
}

type OpenRequest = { source: 'path'; path: string } | { source: 'bytes'; bytes: Uint8Array; name: string };

export class Opener {
  readonly #c: OpenContext;

  recent = $state.raw<string[]>([]);
  /** What is being opened, for the status line and Run's description. */
  loading = $state<string | null>(null);

  constructor(context: OpenContext) {
    this.#c = context;
    this.recent = context.storage ? readRecent(context.storage) : [];
  }

  async openBytes(bytes: Uint8Array, name: string): Promise<void> {
    await this.#open({ source: 'bytes', bytes, name }, name, null);
  }

  async openPath(path: string): Promise<void> {
    const name = path.split(/[/\\]/).pop() || path;
    const ok = await this.#open({ source: 'path', path }, name, path);
    const storage = this.#c.storage;
    if (storage && ok) this.recent = addRecent(storage, path);
  }

  forgetRecent(path: string): void {
    if (this.#c.storage) this.recent = removeRecent(this.#c.storage, path);
  }

  /** Electron: native dialog. Returns false when there is no native dialog (web mode). */
  async pickAndOpen(): Promise<boolean> {
    if (!this.#c.appInfo()?.nativeDialogs) return false;
    const r = await this.#c.api.pickOpenPath({});
    if (r.ok && r.value.path) await this.openPath(r.value.path);
    return true;
  }

  async #open(req: OpenRequest, name: string, path: string | null): Promise<boolean> {
    const { api, notices } = this.#c;
    if (this.#c.busy()) {
      notices.error('Wait for the running job to finish (or cancel it) before opening another image.');
      return false;
    }
    this.loading = `Opening ${name}…`;
    try {
      const opened = await api.openImage(req);
      if (!opened.ok) {
        notices.failed(opened.error, `open ${name}`);
        return false;
      }
      const px = await api.getImagePixels({ imageId: opened.value.imageId });
      if (!px.ok) {
        notices.failed(px.error, `read the pixels of ${name}`);
        return false;
      }
      const img = makeRgba(px.value.width, px.value.height, new Uint8ClampedArray(px.value.rgba.buffer, px.value.rgba.byteOffset, px.value.rgba.byteLength));
      this.#c.ledger.startDocument(img, opened.value.imageId);
      this.#c.show(new ImageDocument(opened.value.metadata.name || name, path, img));
      notices.info(`Opened ${name} (${img.width} × ${img.height})`);
      return true;
    } finally {
      this.loading = null;
    }
  }
}
