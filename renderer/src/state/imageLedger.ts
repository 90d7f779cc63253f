/**
 * Which engine image id holds each picture the editor shows. Undo can bring back any earlier
 * result, so every id the document produced is kept (and released together when another
 * document opens); a request whose image the engine no longer holds re-sends the pixels once.
 */
import type { CodiApi, Result } from '../engine-client/index.ts';
import type { RgbaImage } from '../editor/document.ts';
import { encodePng } from './encodePng.ts';

export class ImageLedger {
  readonly #ids = new WeakMap<RgbaImage, string>();
  #held: string[] = [];
  readonly #api: Pick<CodiApi, 'openImage' | 'releaseImage'>;
  readonly #encode: (img: RgbaImage) => Promise<Uint8Array>;

  constructor(api: Pick<CodiApi, 'openImage' | 'releaseImage'>, encode: (img: RgbaImage) => Promise<Uint8Array> = encodePng) {
    this.#api = api;
    this.#encode = encode;
  }

  /** A new document: the old one's images are released, `img` is held as `imageId`. */
  startDocument(img: RgbaImage, imageId: string): void {
    for (const id of this.#held) void this.#api.releaseImage({ imageId: id });
    this.#held = [];
    this.remember(img, imageId);
  }

  /** The engine holds `img` as `imageId` (a job result, or a re-upload). */
  remember(img: RgbaImage, imageId: string): void {
    this.#ids.set(img, imageId);
    this.#held.push(imageId);
  }

  idOf(img: RgbaImage): string | undefined {
    return this.#ids.get(img);
  }

  /** Engine ids held for the current document, oldest first. */
  get held(): readonly string[] {
    return this.#held;
  }

  /**
   * Run a request that needs `img` in the engine. When the engine answers 'image-gone' (it
   * restarted, or evicted a result), upload the pixels again as `name` and retry once.
   */
  async withImage<T>(img: RgbaImage, name: string, fn: (imageId: string) => Promise<Result<T>>): Promise<Result<T>> {
    const id = this.#ids.get(img);
    if (id) {
      const r = await fn(id);
      if (r.ok || r.error.code !== 'image-gone') return r;
    }
    let bytes: Uint8Array;
    try {
      bytes = await this.#encode(img);
    } catch (err) {
      return { ok: false, error: { code: 'internal', message: `could not re-send the image to the engine: ${(err as Error).message}` } };
    }
    const opened = await this.#api.openImage({ source: 'bytes', bytes, name });
    if (!opened.ok) return opened;
    this.remember(img, opened.value.imageId);
    return fn(opened.value.imageId);
  }
}
