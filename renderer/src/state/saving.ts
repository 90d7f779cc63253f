/**
 * Saving the current image: to a path through the engine (atomic, with its own refusals for an
 * existing file and for a file open as an original), as encoded bytes for a browser download,
 * or to the clipboard.
 */
import type { AppInfo, CodiApi, ImageFormat } from '../engine-client/index.ts';
import type { ImageDocument } from '../editor/document.ts';
import { defaultSavePath } from '../editor/document.ts';
import type { ImageLedger } from './imageLedger.ts';
import { describeError } from './notices.svelte.ts';
import type { Notices } from './notices.svelte.ts';

export const SAVE_FORMATS: readonly { readonly id: ImageFormat; readonly label: string; readonly ext: string; readonly lossy: boolean }[] = [
  { id: 'png', label: 'PNG (lossless)', ext: 'png', lossy: false },
  { id: 'jpeg', label: 'JPEG', ext: 'jpg', lossy: true },
  { id: 'webp', label: 'WebP', ext: 'webp', lossy: true },
  { id: 'tiff', label: 'TIFF', ext: 'tiff', lossy: false },
  { id: 'avif', label: 'AVIF', ext: 'avif', lossy: true },
];

export type SaveOutcome = { ok: true; path: string; bytes: number; kept?: string } | { ok: false; exists: boolean; original: boolean; message: string };

export interface SaveContext {
  readonly api: CodiApi;
  readonly ledger: ImageLedger;
  readonly notices: Notices;
  doc(): ImageDocument | null;
  appInfo(): AppInfo | null;
}

export class Saver {
  readonly #c: SaveContext;

  constructor(context: SaveContext) {
    this.#c = context;
  }

  defaultSavePath(ext: string): string {
    return defaultSavePath(this.#c.doc() ?? { name: 'image', path: null }, ext, this.#c.appInfo()?.saveFolder);
  }

  /**
   * Save the current image. `exists`: the file is there (ask before replacing it); `original`:
   * the engine found the target is a file open as an original, which needs its own confirmation
   * (`replaceOriginal`), after which the engine keeps its old bytes and says where.
   */
  async save(path: string, format: ImageFormat, quality: number, keepMetadata: boolean, overwrite: boolean, replaceOriginal = false): Promise<SaveOutcome> {
    const doc = this.#c.doc();
    if (!doc) return { ok: false, exists: false, original: false, message: 'Nothing to save.' };
    const r = await this.#c.ledger.withImage(doc.image, doc.name, (imageId) => this.#c.api.saveImage({ imageId, path, format, quality, keepMetadata, overwrite, replaceOriginal }));
    if (!r.ok) {
      const refused = r.error.code === 'exists' || r.error.code === 'is-original';
      return { ok: false, exists: r.error.code === 'exists', original: r.error.code === 'is-original', message: refused ? r.error.message : describeError(r.error, 'save') };
    }
    const k = r.value.keptOriginal;
    const kept = k ? (k.place === 'trash' ? `The original's previous file is in the trash: ${k.path}` : `The original's previous file was kept as ${k.path}`) : undefined;
    this.#c.notices.info(`Saved ${r.value.path} (${Math.max(1, Math.round(r.value.bytes / 1024))} KB).${kept ? ` ${kept}` : ''}`);
    return { ok: true, path: r.value.path, bytes: r.value.bytes, ...(kept ? { kept } : {}) };
  }

  /** Encoded bytes for a browser download (web mode). */
  async encode(format: ImageFormat, quality: number, keepMetadata: boolean): Promise<{ bytes: Uint8Array; mime: string } | null> {
    const doc = this.#c.doc();
    if (!doc) return null;
    const r = await this.#c.ledger.withImage(doc.image, doc.name, (imageId) => this.#c.api.encodeImage({ imageId, format, quality, keepMetadata }));
    if (!r.ok) {
      this.#c.notices.failed(r.error, 'encode the image');
      return null;
    }
    return r.value;
  }

  /**
   * Copy the current image to the system clipboard as PNG (the engine encodes it, so 16-bit
   * sources keep their exact 8-bit rounding). Browsers allow this only from a user gesture on
   * a secure context (localhost counts); otherwise the reason is shown.
   */
  async copyToClipboard(): Promise<boolean> {
    if (typeof ClipboardItem === 'undefined' || !navigator.clipboard?.write) {
      this.#c.notices.error('Copying images is not permitted here (the page needs a secure context with clipboard access).');
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
      this.#c.notices.info('Copied the image to the clipboard.');
      return true;
    } catch (err) {
      this.#c.notices.error(`Could not copy to the clipboard: ${(err as Error).message}`);
      return false;
    }
  }
}
