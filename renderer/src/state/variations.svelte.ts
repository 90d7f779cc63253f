/**
 * Variations: the same request with seeds seed … seed+N−1, one job after another; the results
 * are offered side by side as thumbnails and nothing enters history until one is picked.
 */
import type { RgbaImage } from '../editor/document.ts';
import type { JobResult } from './jobRunner.svelte.ts';

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

export class Variations {
  readonly #thumbnail: (img: RgbaImage) => Promise<string>;
  readonly #revoke: (url: string) => void;
  #stop = false;

  count = $state<number>(4);
  list = $state.raw<Variation[]>([]);
  running = $state.raw<{ done: number; total: number } | null>(null);

  constructor(thumbnail: (img: RgbaImage) => Promise<string> = (img) => thumbnailUrl(img, 160), revoke: (url: string) => void = (u) => URL.revokeObjectURL(u)) {
    this.#thumbnail = thumbnail;
    this.#revoke = revoke;
  }

  /**
   * Run `count` seeds from `firstSeed` with `runOne` (null: that job failed, or its document
   * is gone, which ends the run); resolves with how many were found.
   */
  async run(firstSeed: number, runOne: (seed: number) => Promise<JobResult | null>): Promise<number> {
    this.discard();
    const n = this.count;
    const found: Variation[] = [];
    this.#stop = false;
    this.running = { done: 0, total: n };
    try {
      for (let i = 0; i < n && !this.#stop; i++) {
        const seed = (firstSeed + i) >>> 0;
        const r = await runOne(seed);
        if (!r) break;
        found.push({ seed, image: r.img, imageId: r.imageId, thumb: await this.#thumbnail(r.img) });
        this.list = [...found];
        this.running = { done: i + 1, total: n };
      }
    } finally {
      this.running = null;
    }
    return found.length;
  }

  /** Stop after the job in flight (Cancel cancels that one). */
  stop(): void {
    this.#stop = true;
  }

  /** Close the set (and stop a run in progress). */
  discard(): void {
    this.#stop = true;
    for (const v of this.list) this.#revoke(v.thumb);
    this.list = [];
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
