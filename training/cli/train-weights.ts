/**
 * Raw training weights stored inside a pack (role 'other', file train-weights.bin) so that a
 * pack can seed further training: a backbone pack for teachers/CoDi/PE-CoDi adapters, a
 * teacher pack for CM. ONNX alone does not carry the network config, and reading weights
 * back out of a graph would couple training to the exporter's layout.
 *
 * Layout: "CDW1" | uint32 LE header length | header JSON (UTF-8) | zero pad to 4 | float32 LE data.
 */
import { readFile } from 'node:fs/promises';
import type { NetConfig } from '../../core/nn/config.ts';
import type { ParamRecord } from '../model/network.ts';

export const TRAIN_WEIGHTS_FILE = 'train-weights.bin';
const MAGIC = 'CDW1';

export interface TrainWeights {
  net: NetConfig;
  backbone: ParamRecord;
  adapter?: ParamRecord;
}

interface Header {
  net: NetConfig;
  tensors: Array<{ part: 'backbone' | 'adapter'; name: string; shape: number[]; offset: number; length: number }>;
}

export function encodeTrainWeights(w: TrainWeights): Uint8Array {
  const tensors: Header['tensors'] = [];
  let total = 0;
  const parts: Array<['backbone' | 'adapter', ParamRecord]> = [['backbone', w.backbone], ...(w.adapter ? [['adapter', w.adapter] as ['adapter', ParamRecord]] : [])];
  for (const [part, rec] of parts) {
    for (const [name, p] of Object.entries(rec)) {
      tensors.push({ part, name, shape: p.shape, offset: total, length: p.data.length });
      total += p.data.length;
    }
  }
  const header = new TextEncoder().encode(JSON.stringify({ net: w.net, tensors } satisfies Header));
  const headStart = 8;
  const dataStart = Math.ceil((headStart + header.length) / 4) * 4;
  const out = new Uint8Array(dataStart + total * 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(4, header.length, true);
  out.set(header, headStart);
  const data = new Float32Array(out.buffer, dataStart, total);
  let k = 0;
  for (const [, rec] of parts) for (const p of Object.values(rec)) data.set(p.data, tensors[k++]!.offset);
  return out;
}

export function decodeTrainWeights(bytes: Uint8Array): TrainWeights {
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) throw new Error('not a CoDi train-weights file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = view.getUint32(4, true);
  if (8 + hlen > bytes.length) throw new Error('train-weights header runs past the end of the file');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as Header;
  const dataStart = Math.ceil((8 + hlen) / 4) * 4;
  const n = (bytes.length - dataStart) / 4;
  if (!Number.isInteger(n)) throw new Error('train-weights data is not a whole number of float32 values');
  const all = new Float32Array(n);
  new Uint8Array(all.buffer).set(bytes.subarray(dataStart));
  const backbone: ParamRecord = {};
  const adapter: ParamRecord = {};
  for (const t of header.tensors) {
    if (t.offset + t.length > n || t.shape.reduce((a, b) => a * b, 1) !== t.length) throw new Error(`train-weights tensor ${t.name} is malformed`);
    (t.part === 'adapter' ? adapter : backbone)[t.name] = { shape: t.shape, data: all.slice(t.offset, t.offset + t.length) };
  }
  return { net: header.net, backbone, ...(Object.keys(adapter).length > 0 ? { adapter } : {}) };
}

export async function readTrainWeightsFile(file: string): Promise<TrainWeights> {
  return decodeTrainWeights(new Uint8Array(await readFile(file)));
}
