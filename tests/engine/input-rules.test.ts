/**
 * The input rules in core/ hold in the engine, so `codi run` (and the app, which sends the same
 * requests) refuses or adapts the same input with the same words: a colour photo given to the
 * depth tool (core/image/depth-map.ts) and a mask of another size (core/image/mask-size.ts).
 * Runs the real CLI against the bundled packs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../electron/cli/codi.ts';
import type { CliIo } from '../../electron/cli/codi.ts';
import { REPO_ROOT } from '../../electron/broker/fork.ts';

let tmp: string;
let env: NodeJS.ProcessEnv;
const W = 64;
const H = 48;

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { env, tty: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l), stdout, stderr };
}

async function maskPng(file: string, w: number, h: number): Promise<void> {
  const m = Buffer.alloc(w * h);
  for (let y = Math.floor(h / 4); y < Math.floor((3 * h) / 4); y++) for (let x = Math.floor(w / 4); x < Math.floor(w / 2); x++) m[y * w + x] = 255;
  await sharp(m, { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-rules-'));
  env = { ...process.env, CODI_PACKS: path.join(REPO_ROOT, 'native-models'), CODI_USER_PACKS: path.join(tmp, 'none'), CODI_EP: 'cpu', CODI_THREADS: '1' };
  const rgb = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) rgb.set([40 + 3 * x, 200 - 3 * y, 90 + 2 * x], (y * W + x) * 3);
  }
  await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toFile(path.join(tmp, 'photo.png'));
  const grey = Buffer.alloc(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) grey[y * W + x] = Math.round((255 * y) / (H - 1));
  await sharp(grey, { raw: { width: W, height: H, channels: 1 } }).png().toFile(path.join(tmp, 'depth.png'));
  // a black-and-white photograph: grey, but textured everywhere (core's peak rule)
  const bw = Buffer.alloc(W * H);
  for (let i = 0; i < W * H; i++) bw[i] = 100 + ((i * 7919) % 61);
  await sharp(bw, { raw: { width: W, height: H, channels: 1 } }).png().toFile(path.join(tmp, 'bw-photo.png'));
  await maskPng(path.join(tmp, 'mask-half.png'), W / 2, H / 2);
  await maskPng(path.join(tmp, 'mask-other-shape.png'), H, W);
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('input rules through codi run', () => {
  it('codi run depth refuses a colour photo with the reason, and runs on a grey depth map', async () => {
    const refused = capture();
    const out = path.join(tmp, 'from-photo.png');
    expect(await main(['run', 'depth', path.join(tmp, 'photo.png'), '-o', out], refused)).toBe(1);
    expect(refused.stderr.join('\n')).toMatch(/codi: this image is not a depth map: \d+ % of its pixels are in colour .* a depth map: a grey image, white = near, black = far/);
    expect(existsSync(out)).toBe(false);

    const bw = capture();
    expect(await main(['run', 'depth', path.join(tmp, 'bw-photo.png'), '-o', out], bw)).toBe(1);
    expect(bw.stderr.join('\n')).toMatch(/codi: this grey image looks like a photograph, not a depth map: [\d.]+ % of its pixels are fine texture/);
    expect(existsSync(out)).toBe(false);

    const io = capture();
    expect(await main(['run', 'depth', path.join(tmp, 'depth.png'), '-o', path.join(tmp, 'scene.png')], io)).toBe(0);
    expect((await sharp(path.join(tmp, 'scene.png')).metadata()).width).toBe(W);
  }, 300_000);

  it('codi run inpaint scales a same-shape mask and says so, and refuses another shape with both sizes', async () => {
    const io = capture();
    expect(await main(['run', 'inpaint', path.join(tmp, 'photo.png'), '--mask', path.join(tmp, 'mask-half.png'), '-o', path.join(tmp, 'filled.png')], io)).toBe(0);
    expect(io.stderr.join('\n')).toContain(`note: the mask is ${W / 2}×${H / 2} but the image is ${W}×${H}: same shape, so the mask was scaled to ${W}×${H}`);

    const refused = capture();
    expect(await main(['run', 'inpaint', path.join(tmp, 'photo.png'), '--mask', path.join(tmp, 'mask-other-shape.png'), '-o', path.join(tmp, 'bad.png')], refused)).toBe(1);
    expect(refused.stderr.join('\n')).toContain(`codi: the mask is ${H}×${W} but the image is ${W}×${H}, a different shape`);
  }, 300_000);
});
