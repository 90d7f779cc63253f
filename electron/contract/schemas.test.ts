import { describe, it, expect } from 'vitest';
import { parseRequest } from './api.ts';
import { CHANNELS, channelNameOf } from './channels.ts';
import { codiEvent, SCHEMAS } from './schemas.ts';
import { decodeFrame, encodeFrame } from './wire.ts';

const img = 'img_abc123';

describe('contract request schemas', () => {
  it('accepts well-formed requests and applies defaults', () => {
    const r = parseRequest('runTool', { tool: 'restore', imageId: img });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.priority).toBe('interactive');
      expect(r.value.seed).toBe(0);
    }
    const s = parseRequest('saveImage', { imageId: img, path: '/tmp/x.png', format: 'png' });
    expect(s.ok && s.value.overwrite === false && s.value.keepMetadata === false).toBe(true);
  });

  it.each([
    ['runTool', { tool: 'restore' }, 'imageId'],
    ['runTool', { tool: 'backbone', imageId: img }, 'tool'],
    ['runTool', { tool: 'restore', imageId: '../etc/passwd' }, 'imageId'],
    ['runTool', { tool: 'restore', imageId: img, steps: 0 }, 'steps'],
    ['runTool', { tool: 'restore', imageId: img, steps: 2.5 }, 'steps'],
    ['runTool', { tool: 'restore', imageId: img, priority: 'urgent' }, 'priority'],
    ['runTool', { tool: 'restore', imageId: img, surprise: 1 }, ''],
    ['runTool', { tool: 'inpaint', imageId: img, mask: { width: 2, height: 2, data: new Uint8Array(3) } }, 'mask'],
    ['openImage', { source: 'bytes', bytes: 'aGVsbG8=' }, 'bytes'],
    ['openImage', { source: 'url', url: 'http://x' }, 'source'],
    ['openImage', { source: 'path', path: 'a\0b' }, 'path'],
    ['saveImage', { imageId: img, path: '/tmp/x.png', format: 'bmp' }, 'format'],
    ['saveImage', { imageId: img, path: '/tmp/x.jpg', format: 'jpeg', quality: 101 }, 'quality'],
    ['cancelJob', { jobId: 'img_abc' }, 'jobId'],
    ['getImagePixels', { imageId: img, maxSide: 0 }, 'maxSide'],
    ['listPacks', { extra: true }, ''],
  ] as const)('%s rejects %j', (channel, payload, field) => {
    const r = parseRequest(channel, payload);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid-request');
      expect(r.error.message).toContain(channel);
      if (field) expect(r.error.message).toContain(field);
    }
  });

  it('has a request and response schema for every channel, and maps wire names back', () => {
    for (const [name, id] of Object.entries(CHANNELS)) {
      expect(SCHEMAS[name as keyof typeof SCHEMAS]).toBeDefined();
      expect(channelNameOf(id)).toBe(name);
    }
    expect(channelNameOf('codi:evil')).toBeUndefined();
    expect(channelNameOf('__proto__')).toBeUndefined();
  });

  it('validates events as a tagged union', () => {
    expect(codiEvent.safeParse({ type: 'job-progress', progress: { jobId: 'job_x', stage: 'denoising', step: { i: 1, n: 4 }, etaMs: null } }).success).toBe(true);
    expect(codiEvent.safeParse({ type: 'job-progress', progress: { jobId: 'job_x', stage: 'dreaming', etaMs: null } }).success).toBe(false);
    expect(codiEvent.safeParse({ type: 'engine-status', status: { state: 'restarting' } }).success).toBe(true);
  });
});

describe('web framing', () => {
  it('round-trips binary payloads as raw bytes, not base64', () => {
    const rgba = new Uint8Array([1, 2, 3, 4, 250, 251, 252, 253]);
    const frame = encodeFrame({ t: 'res', id: 7, r: { ok: true, value: { imageId: img, width: 2, height: 1, rgba } } });
    // the raw bytes appear verbatim at the end of the frame
    expect([...frame.subarray(frame.length - 8)]).toEqual([...rgba]);
    const back = decodeFrame(frame) as { m?: unknown; r: { value: { rgba: Uint8Array } } };
    expect(back.r.value.rgba).toBeInstanceOf(Uint8Array);
    expect([...back.r.value.rgba]).toEqual([...rgba]);
  });

  it('refuses malformed frames', () => {
    const good = encodeFrame({ t: 'req', id: 1, ch: CHANNELS.listPacks, p: {} });
    expect(() => decodeFrame(good.subarray(0, 3))).toThrow();
    const badLen = good.slice();
    new DataView(badLen.buffer).setUint32(0, 1e9, true);
    expect(() => decodeFrame(badLen)).toThrow(/header length/);
    const trailing = new Uint8Array(good.length + 1);
    trailing.set(good);
    expect(() => decodeFrame(trailing)).toThrow(/trailing/);
    const header = new TextEncoder().encode(JSON.stringify({ m: { x: { $bin: 3 } }, b: [] }));
    const bad = new Uint8Array(4 + header.length);
    new DataView(bad.buffer).setUint32(0, header.length, true);
    bad.set(header, 4);
    expect(() => decodeFrame(bad)).toThrow(/blob reference/);
  });

  it('drops prototype-polluting keys', () => {
    const header = new TextEncoder().encode('{"m":{"__proto__":{"polluted":1},"a":1},"b":[]}');
    const f = new Uint8Array(4 + header.length);
    new DataView(f.buffer).setUint32(0, header.length, true);
    f.set(header, 4);
    const v = decodeFrame(f) as Record<string, unknown>;
    expect(v.a).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });
});
