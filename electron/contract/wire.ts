/**
 * Web-mode framing: every WebSocket message is ONE binary frame
 *
 *   [u32 little-endian: header byte length][header: UTF-8 JSON][blob 0][blob 1]…
 *
 * The header is `{ m: <message>, b: [<byte length of blob 0>, …] }`; inside `m` each
 * Uint8Array is replaced by `{"$bin": k}`. So pixels travel as raw bytes and everything else
 * as JSON. Pure TypeScript (no Node, no DOM beyond TextEncoder), so a browser client can use
 * the same functions.
 *
 * Messages: client → server `{t: 'req', id, ch, p}` (ch = a CHANNELS value, p = payload);
 * server → client `{t: 'res', id, r}` (r = Result) and `{t: 'evt', e}` (e = CodiEvent).
 */
import type { ChannelId } from './channels.ts';
import type { Result } from './api.ts';
import type { CodiEvent } from './schemas.ts';

export type ClientMessage = { t: 'req'; id: number; ch: ChannelId; p: unknown };
export type ServerMessage = { t: 'res'; id: number; r: Result<unknown> } | { t: 'evt'; e: CodiEvent };

/** Frames larger than this are refused before parsing (a 16k×16k RGBA image is 1 GiB). */
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024;
const MAX_HEADER_BYTES = 4 * 1024 * 1024;
const MAX_BLOBS = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(message: ClientMessage | ServerMessage): Uint8Array {
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(message, (_key, value: unknown) => {
    if (value instanceof Uint8Array) {
      blobs.push(value);
      return { $bin: blobs.length - 1 };
    }
    return value;
  });
  const header = encoder.encode(JSON.stringify({ m: JSON.parse(json) as unknown, b: blobs.map((b) => b.byteLength) }));
  let total = 4 + header.byteLength;
  for (const b of blobs) total += b.byteLength;
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, header.byteLength, true);
  out.set(header, 4);
  let at = 4 + header.byteLength;
  for (const b of blobs) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/**
 * Decode one frame into a plain value. Throws on malformed framing; the caller still
 * validates the result with the contract schemas (this only restores the structure).
 */
export function decodeFrame(frame: Uint8Array): unknown {
  if (frame.byteLength < 4) throw new Error('frame too short');
  if (frame.byteLength > MAX_FRAME_BYTES) throw new Error('frame too large');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLen = view.getUint32(0, true);
  if (headerLen > MAX_HEADER_BYTES || 4 + headerLen > frame.byteLength) throw new Error('bad frame header length');
  const header = JSON.parse(decoder.decode(frame.subarray(4, 4 + headerLen))) as { m?: unknown; b?: unknown };
  const lens = header.b;
  if (!Array.isArray(lens) || lens.length > MAX_BLOBS) throw new Error('bad blob table');
  const blobs: Uint8Array[] = [];
  let at = 4 + headerLen;
  for (const len of lens) {
    if (typeof len !== 'number' || !Number.isInteger(len) || len < 0 || at + len > frame.byteLength) {
      throw new Error('bad blob length');
    }
    // Copy so the blob owns an exactly sized, aligned buffer (Float/typed views downstream).
    blobs.push(frame.slice(at, at + len));
    at += len;
  }
  if (at !== frame.byteLength) throw new Error('trailing bytes after the last blob');
  return restoreBlobs(header.m, blobs, 0);
}

function restoreBlobs(value: unknown, blobs: Uint8Array[], depth: number): unknown {
  if (depth > 32) throw new Error('message nested too deeply');
  if (Array.isArray(value)) return value.map((v) => restoreBlobs(v, blobs, depth + 1));
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === '$bin') {
      const k = obj.$bin;
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= blobs.length) throw new Error('bad blob reference');
      return blobs[k];
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
      out[key] = restoreBlobs(obj[key], blobs, depth + 1);
    }
    return out;
  }
  return value;
}
