/**
 * The depth tool's condition: a separately loaded depth map, else the open image itself when
 * core's depth-map rule accepts it (the engine applies the same rule).
 */
import type { CodiApi } from '../engine-client/index.ts';
import type { RgbaImage } from '../editor/document.ts';
import { depthMapProblem } from '../../../core/image/depth-map.ts';
import type { Notices } from './notices.svelte.ts';

export interface LoadedDepthMap {
  readonly imageId: string;
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
}

export class DepthCondition {
  readonly #api: Pick<CodiApi, 'openImage' | 'releaseImage'>;
  readonly #notices: Notices;
  /** Per image: the scan is O(pixels) and Run's state asks on every change. */
  readonly #problems = new WeakMap<RgbaImage, string | null>();

  map = $state.raw<LoadedDepthMap | null>(null);

  constructor(api: Pick<CodiApi, 'openImage' | 'releaseImage'>, notices: Notices) {
    this.#api = api;
    this.#notices = notices;
  }

  /** Why Run cannot start the depth tool on `img`, as the button's description; null when it can. */
  blocker(img: RgbaImage): string | null {
    if (this.map) return null;
    let why = this.#problems.get(img);
    if (why === undefined) {
      why = depthMapProblem({ width: img.width, height: img.height, channels: 4, maxValue: 255, pixels: img.data });
      this.#problems.set(img, why);
    }
    return why ? `${why.charAt(0).toUpperCase()}${why.slice(1)}. Load one with “Load depth map…”.` : null;
  }

  /** Load an 8- or 16-bit depth map (near = bright) as the condition. */
  async load(file: File): Promise<void> {
    const opened = await this.#api.openImage({ source: 'bytes', bytes: new Uint8Array(await file.arrayBuffer()), name: file.name });
    if (!opened.ok) {
      this.#notices.failed(opened.error, `open the depth map ${file.name}`);
      return;
    }
    this.clear();
    const v = opened.value;
    this.map = { imageId: v.imageId, name: file.name, width: v.width, height: v.height, bitDepth: v.metadata.bitDepth };
  }

  clear(): void {
    if (this.map) void this.#api.releaseImage({ imageId: this.map.imageId });
    this.map = null;
  }
}
