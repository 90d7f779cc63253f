/**
 * Reading and rewriting ONNX files at the protobuf wire level, without a schema and without
 * decoding weights: field numbers are those of the public onnx.proto (ModelProto.graph = 7,
 * GraphProto.node = 1 / initializer = 5 / input = 11 / output = 12 / sparse_initializer = 15,
 * NodeProto.attribute = 5, AttributeProto.t = 5 / g = 6 / tensors = 10 / graphs = 11,
 * TensorProto.name = 8 / raw_data = 9 / external_data = 13 / data_location = 14).
 *
 * Why wire level: a graph file may hold up to 2 GB of inline weights, and the import must find
 * every external-data `location` (including tensors inside Constant nodes and subgraphs) by
 * skipping over raw_data, not by decoding it. The same walk rewrites a graph for the engine's
 * float32-only session seam: external tensors are inlined, and non-float graph inputs/outputs
 * get a Cast so the session sees float32 only.
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';

/** Random access to the bytes of a file or buffer. */
export interface ByteSource {
  readonly size: number;
  /** `len` bytes at `pos` (a view, valid until the next call). */
  read(pos: number, len: number): Uint8Array;
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read(pos, len) {
      if (pos < 0 || pos + len > bytes.byteLength) throw new OnnxWireError('truncated ONNX protobuf');
      return bytes.subarray(pos, pos + len);
    },
  };
}

const WINDOW = 1 << 20;

/** A file read through a 1 MiB window with positioned reads; skipped fields are never read. */
export class FileSource implements ByteSource {
  readonly size: number;
  private readonly fd: number;
  private buf = new Uint8Array(0);
  private bufPos = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  read(pos: number, len: number): Uint8Array {
    if (pos < 0 || pos + len > this.size) throw new OnnxWireError('truncated ONNX protobuf');
    if (pos < this.bufPos || pos + len > this.bufPos + this.buf.byteLength) {
      const n = Math.min(Math.max(len, WINDOW), this.size - pos);
      const b = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const r = readSync(this.fd, b, at, n - at, pos + at);
        if (r === 0) throw new OnnxWireError('file shrank while it was being read');
        at += r;
      }
      this.buf = b;
      this.bufPos = pos;
    }
    const o = pos - this.bufPos;
    return this.buf.subarray(o, o + len);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export class OnnxWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxWireError';
  }
}

/** One protobuf field: payload [start, end) for wire type 2, `value` for varints. */
interface Field {
  field: number;
  wire: number;
  /** Offset of the tag (for verbatim copies). */
  tagStart: number;
  start: number;
  end: number;
  value: number;
}

function readVarint(src: ByteSource, pos: number, limit: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= limit) throw new OnnxWireError('truncated varint');
    const b = src.read(pos++, 1)[0]!;
    value += (b & 0x7f) * mul;
    if (b < 0x80) return [value, pos];
    mul *= 128;
  }
  throw new OnnxWireError('varint longer than 10 bytes');
}

/** The fields of the message occupying [start, end) of `src`. */
function* fields(src: ByteSource, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const tagStart = pos;
    const [tag, p1] = readVarint(src, pos, end);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    pos = p1;
    if (field === 0) throw new OnnxWireError('field number 0 in ONNX protobuf');
    switch (wire) {
      case 0: {
        const [v, p2] = readVarint(src, pos, end);
        yield { field, wire, tagStart, start: pos, end: p2, value: v };
        pos = p2;
        break;
      }
      case 1:
        yield { field, wire, tagStart, start: pos, end: pos + 8, value: 0 };
        pos += 8;
        break;
      case 2: {
        const [len, p2] = readVarint(src, pos, end);
        if (p2 + len > end) throw new OnnxWireError('length-delimited field runs past its message');
        yield { field, wire, tagStart, start: p2, end: p2 + len, value: len };
        pos = p2 + len;
        break;
      }
      case 5:
        yield { field, wire, tagStart, start: pos, end: pos + 4, value: 0 };
        pos += 4;
        break;
      default:
        throw new OnnxWireError(`unsupported protobuf wire type ${wire}`);
    }
    if (pos > end) throw new OnnxWireError('field runs past its message');
  }
}

const dec = new TextDecoder();
const str = (src: ByteSource, f: Field) => dec.decode(src.read(f.start, f.end - f.start));

/** ONNX TensorProto.DataType codes. */
export const ElemType = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, double: 11 } as const;

const ELEM_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };
export function elemTypeName(code: number): string {
  return ELEM_NAMES[code] ?? `type${code}`;
}

/** A graph input or output as declared in the file. */
export interface WireValueInfo {
  name: string;
  elemType: number;
  shape: (number | string)[];
}

/** A tensor whose bytes live in another file. */
export interface ExternalRef {
  tensor: string;
  location: string;
  offset: number;
  /** undefined = to the end of the file. */
  length: number | undefined;
}

export interface OnnxScan {
  inputs: WireValueInfo[];
  outputs: WireValueInfo[];
  external: ExternalRef[];
  opset: number;
}

function parseValueInfo(src: ByteSource, s: number, e: number): WireValueInfo {
  let name = '';
  let elemType = 0;
  const shape: (number | string)[] = [];
  for (const f of fields(src, s, e)) {
    if (f.field === 1 && f.wire === 2) name = str(src, f);
    else if (f.field === 2 && f.wire === 2) {
      for (const tp of fields(src, f.start, f.end)) {
        if (tp.field !== 1 || tp.wire !== 2) continue; // tensor_type
        for (const tt of fields(src, tp.start, tp.end)) {
          if (tt.field === 1 && tt.wire === 0) elemType = tt.value;
          else if (tt.field === 2 && tt.wire === 2) {
            for (const d of fields(src, tt.start, tt.end)) {
              if (d.field !== 1 || d.wire !== 2) continue;
              let dim: number | string = '?';
              for (const dv of fields(src, d.start, d.end)) {
                if (dv.field === 1 && dv.wire === 0) dim = dv.value;
                else if (dv.field === 2 && dv.wire === 2) dim = str(src, dv);
              }
              shape.push(dim);
            }
          }
        }
      }
    }
  }
  return { name, elemType, shape };
}

interface TensorHead {
  name: string;
  external: boolean;
  entries: Map<string, string>;
}

function parseTensorHead(src: ByteSource, s: number, e: number): TensorHead {
  const head: TensorHead = { name: '', external: false, entries: new Map() };
  for (const f of fields(src, s, e)) {
    if (f.field === 8 && f.wire === 2) head.name = str(src, f);
    else if (f.field === 14 && f.wire === 0) head.external = f.value === 1;
    else if (f.field === 13 && f.wire === 2) {
      let k = '';
      let v = '';
      for (const kv of fields(src, f.start, f.end)) {
        if (kv.field === 1 && kv.wire === 2) k = str(src, kv);
        else if (kv.field === 2 && kv.wire === 2) v = str(src, kv);
      }
      head.entries.set(k, v);
    }
  }
  return head;
}

function externalRef(head: TensorHead): ExternalRef {
  const location = head.entries.get('location');
  if (!location) throw new OnnxWireError(`tensor "${head.name}" is marked external but has no location`);
  const num = (k: string) => {
    const v = head.entries.get(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new OnnxWireError(`tensor "${head.name}": external ${k} "${v}" is not a number`);
    return Number(v);
  };
  return { tensor: head.name, location, offset: num('offset') ?? 0, length: num('length') };
}

/** Walk a graph (and its subgraphs) calling `onTensor` for every TensorProto's [start, end). */
function walkGraphTensors(src: ByteSource, s: number, e: number, onTensor: (s: number, e: number) => void): void {
  const walkAttr = (as: number, ae: number) => {
    for (const f of fields(src, as, ae)) {
      if (f.wire !== 2) continue;
      if (f.field === 5 || f.field === 10) onTensor(f.start, f.end);
      else if (f.field === 6 || f.field === 11) walkGraphTensors(src, f.start, f.end, onTensor);
    }
  };
  for (const f of fields(src, s, e)) {
    if (f.wire !== 2) continue;
    if (f.field === 5) onTensor(f.start, f.end);
    else if (f.field === 15) {
      for (const sf of fields(src, f.start, f.end)) if ((sf.field === 1 || sf.field === 2) && sf.wire === 2) onTensor(sf.start, sf.end);
    } else if (f.field === 1) {
      for (const nf of fields(src, f.start, f.end)) if (nf.field === 5 && nf.wire === 2) walkAttr(nf.start, nf.end);
    }
  }
}

/** Signature and external-data references of an ONNX file, without reading its weights. */
export function scanOnnx(src: ByteSource): OnnxScan {
  const inputs: WireValueInfo[] = [];
  const outputs: WireValueInfo[] = [];
  const external: ExternalRef[] = [];
  const initNames = new Set<string>();
  let opset = 0;
  let sawGraph = false;
  for (const f of fields(src, 0, src.size)) {
    if (f.field === 7 && f.wire === 2) {
      sawGraph = true;
      for (const g of fields(src, f.start, f.end)) {
        if (g.wire !== 2) continue;
        if (g.field === 11) inputs.push(parseValueInfo(src, g.start, g.end));
        else if (g.field === 12) outputs.push(parseValueInfo(src, g.start, g.end));
        else if (g.field === 5) initNames.add(parseTensorHead(src, g.start, g.end).name);
      }
      walkGraphTensors(src, f.start, f.end, (s, e) => {
        const head = parseTensorHead(src, s, e);
        if (head.external) external.push(externalRef(head));
      });
    } else if (f.field === 8 && f.wire === 2) {
      let domain = '';
      let version = 0;
      for (const o of fields(src, f.start, f.end)) {
        if (o.field === 1 && o.wire === 2) domain = str(src, o);
        else if (o.field === 2 && o.wire === 0) version = o.value;
      }
      if (domain === '' || domain === 'ai.onnx') opset = version;
    }
  }
  if (!sawGraph) throw new OnnxWireError('not an ONNX model (no graph)');
  return { inputs: inputs.filter((v) => !initNames.has(v.name)), outputs, external, opset };
}

/** Scan an ONNX file on disk through positioned reads. */
export function scanOnnxFile(path: string): OnnxScan {
  const src = new FileSource(path);
  try {
    return scanOnnx(src);
  } finally {
    src.close();
  }
}

// ---------------------------------------------------------------- writing

/** Protobuf encoder for the few messages the rewrite adds. */
class Out {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.byteLength;
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  }
}

export function varintBytes(v: number): Uint8Array {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint ${v}`);
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

const enc = new TextEncoder();
function join(parts: Uint8Array[]): Uint8Array {
  const o = new Out();
  for (const p of parts) o.push(p);
  return o.concat();
}
/** Tag + length + payload of a length-delimited field. */
export function lenField(field: number, payload: Uint8Array): Uint8Array {
  return join([varintBytes(field * 8 + 2), varintBytes(payload.byteLength), payload]);
}
export const strField = (field: number, s: string) => lenField(field, enc.encode(s));
export const varField = (field: number, v: number) => join([varintBytes(field * 8), varintBytes(v)]);

/** Encoded ValueInfoProto. */
export function encodeValueInfo(v: WireValueInfo): Uint8Array {
  const dims = v.shape.map((d) => lenField(1, typeof d === 'number' ? varField(1, d) : strField(2, d)));
  const tensorType = join([varField(1, v.elemType), lenField(2, join(dims))]);
  return join([strField(1, v.name), lenField(2, lenField(1, tensorType))]);
}

/** Encoded NodeProto of `Cast(input) → output` to `to`. */
export function encodeCastNode(name: string, input: string, output: string, to: number): Uint8Array {
  const attribute = join([strField(1, 'to'), varField(3, to), varField(20, 2)]);
  return join([strField(1, input), strField(2, output), strField(3, name), strField(4, 'Cast'), lenField(5, attribute)]);
}

/** Encoded TensorProto.StringStringEntryProto. */
export function encodeEntry(key: string, value: string): Uint8Array {
  return join([strField(1, key), strField(2, value)]);
}

export interface RewriteOptions {
  /** Bytes of an external tensor; called once per external tensor. */
  external?(ref: ExternalRef): Uint8Array;
  /** Make every graph input and output float32 (Cast inserted at the boundary). */
  floatBoundary?: boolean;
  /** Leave external tensors as they are (ONNX Runtime is then given the data files in memory). */
  keepExternal?: boolean;
}

/** Suffix of the float32 stand-in for a non-float graph input or output. */
export const FLOAT_SUFFIX = '__f32';

export interface RewriteResult {
  bytes: Uint8Array;
  /** Original name → the session's name, for inputs/outputs that got a float32 stand-in. */
  renamed: Map<string, string>;
  /** Original elem type of each renamed input/output. */
  originalTypes: Map<string, number>;
  inlined: number;
}

function rewriteTensor(src: ByteSource, s: number, e: number, opts: RewriteOptions, count: { n: number }): Uint8Array {
  const head = parseTensorHead(src, s, e);
  if (!head.external || opts.keepExternal) return src.read(s, e - s).slice();
  if (!opts.external) throw new OnnxWireError(`tensor "${head.name}" has external data but no resolver was given`);
  const data = opts.external(externalRef(head));
  const out = new Out();
  for (const f of fields(src, s, e)) {
    if (f.field === 13 || f.field === 14) continue;
    out.push(src.read(f.tagStart, f.end - f.tagStart).slice());
  }
  out.push(lenField(9, data));
  count.n++;
  return out.concat();
}

function rewriteAttr(src: ByteSource, s: number, e: number, opts: RewriteOptions, count: { n: number }): Uint8Array {
  const out = new Out();
  for (const f of fields(src, s, e)) {
    if (f.wire === 2 && (f.field === 5 || f.field === 10)) out.push(lenField(f.field, rewriteTensor(src, f.start, f.end, opts, count)));
    else if (f.wire === 2 && (f.field === 6 || f.field === 11)) out.push(lenField(f.field, rewriteGraph(src, f.start, f.end, opts, count, null)));
    else out.push(src.read(f.tagStart, f.end - f.tagStart).slice());
  }
  return out.concat();
}

interface BoundaryPlan {
  renamed: Map<string, string>;
  types: Map<string, number>;
  done: boolean;
}

function rewriteGraph(src: ByteSource, s: number, e: number, opts: RewriteOptions, count: { n: number }, boundary: BoundaryPlan | null): Uint8Array {
  const out = new Out();
  const tail: Uint8Array[] = [];
  // Only the first graph field of the model carries the boundary Casts (a model may repeat
  // field 7; protobuf merges the occurrences).
  const doBoundary = boundary !== null && !boundary.done && opts.floatBoundary === true;
  if (doBoundary) boundary.done = true;
  for (const f of fields(src, s, e)) {
    const raw = () => src.read(f.tagStart, f.end - f.tagStart).slice();
    if (f.wire !== 2) {
      out.push(raw());
      continue;
    }
    if (f.field === 5) out.push(lenField(5, rewriteTensor(src, f.start, f.end, opts, count)));
    else if (f.field === 15) {
      const sp = new Out();
      for (const sf of fields(src, f.start, f.end)) {
        if ((sf.field === 1 || sf.field === 2) && sf.wire === 2) sp.push(lenField(sf.field, rewriteTensor(src, sf.start, sf.end, opts, count)));
        else sp.push(src.read(sf.tagStart, sf.end - sf.tagStart).slice());
      }
      out.push(lenField(15, sp.concat()));
    } else if (f.field === 1) {
      const node = new Out();
      for (const nf of fields(src, f.start, f.end)) {
        if (nf.field === 5 && nf.wire === 2) node.push(lenField(5, rewriteAttr(src, nf.start, nf.end, opts, count)));
        else node.push(src.read(nf.tagStart, nf.end - nf.tagStart).slice());
      }
      out.push(lenField(1, node.concat()));
    } else if ((f.field === 11 || f.field === 12) && doBoundary) {
      const vi = parseValueInfo(src, f.start, f.end);
      if (vi.elemType === ElemType.float || vi.elemType === 0) {
        out.push(raw());
        continue;
      }
      const alias = vi.name + FLOAT_SUFFIX;
      boundary.renamed.set(vi.name, alias);
      boundary.types.set(vi.name, vi.elemType);
      out.push(lenField(f.field, encodeValueInfo({ name: alias, elemType: ElemType.float, shape: vi.shape })));
      if (f.field === 11) {
        // Cast nodes for inputs go first so the node list stays topologically sorted.
        out.chunks.unshift(lenField(1, encodeCastNode(`cast_in_${vi.name}`, alias, vi.name, vi.elemType)));
        out.size += out.chunks[0]!.byteLength;
      } else {
        tail.push(lenField(1, encodeCastNode(`cast_out_${vi.name}`, vi.name, alias, ElemType.float)));
      }
    } else out.push(raw());
  }
  for (const t of tail) out.push(t);
  return out.concat();
}

/** Rewrite a model held in memory (see {@link RewriteOptions}). */
export function rewriteOnnx(bytes: Uint8Array, opts: RewriteOptions): RewriteResult {
  const src = bufferSource(bytes);
  const out = new Out();
  const count = { n: 0 };
  const boundary: BoundaryPlan = { renamed: new Map(), types: new Map(), done: false };
  for (const f of fields(src, 0, src.size)) {
    if (f.field === 7 && f.wire === 2) out.push(lenField(7, rewriteGraph(src, f.start, f.end, opts, count, boundary)));
    else out.push(src.read(f.tagStart, f.end - f.tagStart).slice());
  }
  return { bytes: out.concat(), renamed: boundary.renamed, originalTypes: boundary.types, inlined: count.n };
}
