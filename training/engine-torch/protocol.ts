/**
 * Frames to and from the PyTorch worker (training/torch/codi_torch/protocol.py is the other
 * end): uint32 LE header length, UTF-8 JSON header, then the float32 LE data of the tensors the
 * header lists under "tensors", in order. Non-finite numbers cross as the strings "NaN",
 * "Infinity", "-Infinity" (JSON has no literal for them).
 */
import type { StoredTensor } from '../trainer/checkpoint.ts';

export type Header = Record<string, unknown>;
export type TensorMap = Map<string, StoredTensor>;

const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);

export function encodeFrame(header: Header, tensors: TensorMap = new Map()): Buffer {
  const entries = [...tensors];
  const json = Buffer.from(JSON.stringify({ ...header, tensors: entries.map(([name, t]) => ({ name, shape: t.shape })) }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  const parts: Buffer[] = [len, json];
  for (const [name, t] of entries) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`tensor ${name}: ${t.data.length} values for shape [${t.shape}]`);
    parts.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return Buffer.concat(parts);
}

/** Incremental decoder: push stdout chunks, take complete frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ header: Header; tensors: TensorMap }> {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Array<{ header: Header; tensors: TensorMap }> = [];
    for (;;) {
      if (this.buf.length < 4) break;
      const hlen = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + hlen) break;
      const header = JSON.parse(this.buf.subarray(4, 4 + hlen).toString('utf8'), (_k, v: unknown) =>
        typeof v === 'string' && NON_FINITE.has(v) ? Number(v) : v,
      ) as Header & { tensors?: Array<{ name: string; shape: number[] }> };
      const list = header.tensors ?? [];
      const need = list.reduce((a, t) => a + t.shape.reduce((p, q) => p * q, 1) * 4, 0);
      if (this.buf.length < 4 + hlen + need) break;
      let off = 4 + hlen;
      const tensors: TensorMap = new Map();
      for (const t of list) {
        const n = t.shape.reduce((p, q) => p * q, 1);
        // copy out: the frame buffer is reused and need not be 4-byte aligned
        const data = new Float32Array(n);
        Buffer.from(data.buffer).set(this.buf.subarray(off, off + n * 4));
        tensors.set(t.name, { shape: t.shape, data });
        off += n * 4;
      }
      delete header.tensors;
      frames.push({ header, tensors });
      this.buf = this.buf.subarray(off);
    }
    return frames;
  }
}
