/**
 * The binary frame codec of electron/contract/wire.ts, mirrored for the browser bundle (the
 * contract's copy sits beside zod-typed code the bundle must not pull in); wire.test.ts checks
 * that this mirror and the contract agree byte for byte. The channel table itself is not
 * mirrored: the renderer imports electron/contract/channels.ts, plain data with no imports.
 *
 * Frame: [u32 LE header length][UTF-8 JSON {m, b}][blob 0][blob 1]…, where every Uint8Array
 * inside the message m is replaced by {"$bin": index} and b lists the blob lengths.
 */
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** Split the Uint8Arrays out of a message (depth-first) and replace them by references. */
function extract(value: unknown, blobs: Uint8Array[]): unknown {
  if (value instanceof Uint8Array) {
    blobs.push(value);
    return { $bin: blobs.length - 1 };
  }
  if (Array.isArray(value)) return value.map((v) => extract(v, blobs));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = extract(v, blobs);
    return out;
  }
  return value;
}

export function encodeFrame(message: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  const m = extract(message, blobs);
  const header = enc.encode(JSON.stringify({ m, b: blobs.map((x) => x.byteLength) }));
  const size = blobs.reduce((n, x) => n + x.byteLength, 4 + header.byteLength);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, header.byteLength, true);
  out.set(header, 4);
  let at = 4 + header.byteLength;
  for (const x of blobs) {
    out.set(x, at);
    at += x.byteLength;
  }
  return out;
}

function inject(value: unknown, blobs: readonly Uint8Array[]): unknown {
  if (Array.isArray(value)) return value.map((v) => inject(v, blobs));
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$bin') {
      const blob = typeof o.$bin === 'number' ? blobs[o.$bin] : undefined;
      if (!blob) throw new Error('frame references a missing blob');
      return blob;
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) if (k !== '__proto__') out[k] = inject(o[k], blobs);
    return out;
  }
  return value;
}

/** Decode a frame from the server; throws on malformed framing. */
export function decodeFrame(frame: Uint8Array): unknown {
  if (frame.byteLength < 4) throw new Error('frame too short');
  const headerLen = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, true);
  if (4 + headerLen > frame.byteLength) throw new Error('frame header overruns the frame');
  const header = JSON.parse(dec.decode(frame.subarray(4, 4 + headerLen))) as { m: unknown; b: unknown };
  if (!Array.isArray(header.b)) throw new Error('frame has no blob table');
  const blobs: Uint8Array[] = [];
  let at = 4 + headerLen;
  for (const len of header.b) {
    if (typeof len !== 'number' || len < 0 || at + len > frame.byteLength) throw new Error('bad blob length');
    // A copy owns its buffer, so the pixels can be transferred or wrapped in ImageData.
    blobs.push(frame.slice(at, at + len));
    at += len;
  }
  if (at !== frame.byteLength) throw new Error('trailing bytes after the last blob');
  return inject(header.m, blobs);
}
