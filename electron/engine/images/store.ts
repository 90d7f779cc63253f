/**
 * The engine's image store: decoded images and job results, addressed by opaque ids and
 * evicted least-recently-used when their pixels exceed a byte budget. Pixels stay in the
 * engine; the UI gets RGBA8 copies on request.
 */
import { randomBytes } from 'node:crypto';
import type { ImageMetadata } from '../../contract/schemas.ts';
import type { ImageMetadata as SourceMetadata, SourceInfo } from '../image-io/types.ts';

/** Interleaved pixels, row-major: 8-bit in a Uint8Array or 16-bit in a Uint16Array. */
export interface StoredImage {
  id: string;
  width: number;
  height: number;
  /** 3 = RGB, 4 = RGBA. */
  channels: 3 | 4;
  depth: 8 | 16;
  pixels: Uint8Array | Uint16Array;
  metadata: ImageMetadata;
  /** The source file's raw metadata (EXIF/ICC/XMP/IPTC), written back on save only when asked. */
  carry?: SourceMetadata;
  /** What the file was before decoding (its path: saving over it needs an explicit overwrite). */
  source?: SourceInfo;
}

export function newImageId(): string {
  return `img_${randomBytes(9).toString('base64url')}`;
}

export class ImageStore {
  private readonly items = new Map<string, StoredImage>();
  private bytes = 0;

  /** @param budgetBytes total pixel bytes kept; the most recently used image is never evicted. */
  constructor(private readonly budgetBytes = 2 * 1024 * 1024 * 1024) {}

  put(img: Omit<StoredImage, 'id'> & { id?: string }): StoredImage {
    const stored: StoredImage = { ...img, id: img.id ?? newImageId() };
    const old = this.items.get(stored.id);
    if (old) this.bytes -= old.pixels.byteLength;
    this.items.set(stored.id, stored);
    this.bytes += stored.pixels.byteLength;
    this.evict(stored.id);
    return stored;
  }

  /** Look up and mark as recently used. */
  get(id: string): StoredImage | undefined {
    const img = this.items.get(id);
    if (img) {
      this.items.delete(id);
      this.items.set(id, img);
    }
    return img;
  }

  delete(id: string): boolean {
    const img = this.items.get(id);
    if (!img) return false;
    this.items.delete(id);
    this.bytes -= img.pixels.byteLength;
    return true;
  }

  get size(): number {
    return this.items.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  private evict(keep: string): void {
    for (const [id, img] of this.items) {
      if (this.bytes <= this.budgetBytes) break;
      if (id === keep) continue;
      this.items.delete(id);
      this.bytes -= img.pixels.byteLength;
    }
  }
}

/** RGBA8 copy for display, optionally box-downscaled so the longer side ≤ maxSide. */
export function toRgba8(img: StoredImage, maxSide?: number): { width: number; height: number; rgba: Uint8Array } {
  const f = maxSide && Math.max(img.width, img.height) > maxSide ? Math.ceil(Math.max(img.width, img.height) / maxSide) : 1;
  const w = Math.max(1, Math.floor(img.width / f));
  const h = Math.max(1, Math.floor(img.height / f));
  const out = new Uint8Array(w * h * 4);
  const c = img.channels;
  const src = img.pixels;
  const shift = img.depth === 16 ? 257 : 1;
  const area = f * f;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      for (let k = 0; k < 4; k++) {
        if (k === 3 && c === 3) {
          out[o + 3] = 255;
          continue;
        }
        let sum = 0;
        for (let dy = 0; dy < f; dy++) {
          const row = (y * f + dy) * img.width;
          for (let dx = 0; dx < f; dx++) sum += src[(row + x * f + dx) * c + k] as number;
        }
        out[o + k] = Math.round(sum / area / shift);
      }
    }
  }
  return { width: w, height: h, rgba: out };
}
