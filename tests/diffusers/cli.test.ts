/**
 * `codi import` → `codi models` → `codi run inpaint|restore|edit` on tiny diffusers-layout packs,
 * through the real CLI and engine process, and `codi verify-diffusers` on a tampered copy.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../electron/cli/codi.ts';
import { capture, changedInsideMask, importTinyPacks, PACKS, readRgb, testEnv } from './fixtures.ts';

const W = 40;
const H = 30;
let tmp: string;
let userPacks: string;
let env: NodeJS.ProcessEnv;
let mask: Uint8Array;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-diffusers-cli-'));
  userPacks = path.join(tmp, 'user-packs');
  env = testEnv(tmp, userPacks);
  await importTinyPacks(tmp, env);
  const raw = Buffer.alloc(W * H * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 251;
  await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toFile(path.join(tmp, 'in.png'));
  mask = new Uint8Array(W * H);
  for (let y = 8; y < 20; y++) for (let x = 10; x < 26; x++) mask[y * W + x] = 255;
  await sharp(Buffer.from(mask), { raw: { width: W, height: H, channels: 1 } }).png().toFile(path.join(tmp, 'mask.png'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});


describe('codi with diffusers packs', () => {
  it('codi import wrote the packs; codi models lists them with their tasks', async () => {
    const io = capture(env);
    expect(await main(['models'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toMatch(new RegExp(`${PACKS.backbone}\\s+backbone\\s+25 \\(max 100\\)\\s+pretrain\\s+user\\s+ok`));
    expect(text).toMatch(new RegExp(`${PACKS.restore}\\s+restore ×2\\s+.*pe-codi\\s+user\\s+ok; needs ${PACKS.backbone}; takes a free-text prompt`));
    expect(text).toMatch(new RegExp(`${PACKS.restore1}\\s+restore\\s+.*ok; needs ${PACKS.backbone}`));
    expect(text).toMatch(new RegExp(`${PACKS.inpaint}\\s+inpaint\\s+.*ok; takes a free-text prompt`));
    expect(text).toMatch(new RegExp(`${PACKS.edit}\\s+edit\\s+.*ok; takes a free-text prompt`));
  });

  it('codi run inpaint fills inside the mask and keeps every pixel outside it', async () => {
    const out = path.join(tmp, 'filled.png');
    const io = capture(env);
    const code = await main(['run', 'inpaint', path.join(tmp, 'in.png'), '-o', out, '--mask', path.join(tmp, 'mask.png'), '--steps', '3', '--prompt', 'fill the hole', '--guidance', '5'], io);
    expect(code, io.stderr.join('\n')).toBe(0);
    expect(io.stderr.some((l) => /denoising\s+step 3\/3/.test(l))).toBe(true);
    expect(io.stderr.join('\n')).toMatch(/note: prompt: "fill the hole"/);
    const a = await readRgb(path.join(tmp, 'in.png'));
    const b = await readRgb(out);
    expect([b.width, b.height]).toEqual([W, H]);
    const changedInside = changedInsideMask(a.data, b.data, mask, (same) => expect(same).toBe(true));
    expect(changedInside).toBeGreaterThan(100);
  });

  it('codi run restore --scale 2 upscales through the ControlNet pack', async () => {
    const out = path.join(tmp, 'restored.png');
    const io = capture(env);
    expect(await main(['run', 'restore', path.join(tmp, 'in.png'), '-o', out, '--scale', '2', '--steps', '4', '--seed', '3'], io), io.stderr.join('\n')).toBe(0);
    const r = await readRgb(out);
    expect([r.width, r.height]).toEqual([2 * W, 2 * H]);
    const byName = path.join(tmp, 'restored-x1.png');
    const io1 = capture(env);
    expect(await main(['run', PACKS.restore1, path.join(tmp, 'in.png'), '-o', byName, '--steps', '2'], io1), io1.stderr.join('\n')).toBe(0);
    expect([(await readRgb(byName)).width, (await readRgb(byName)).height]).toEqual([W, H]);
  });

  it('codi run edit takes a free-text instruction and refuses to run without one', async () => {
    const out = path.join(tmp, 'edited.webp');
    const io = capture(env);
    expect(await main(['run', 'edit', path.join(tmp, 'in.png'), '-o', out, '--prompt', 'make it look like a painting', '--steps', '2', '--image-guidance', '1.2'], io), io.stderr.join('\n')).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', W, H]);
    const none = capture(env);
    expect(await main(['run', 'edit', path.join(tmp, 'in.png'), '-o', path.join(tmp, 'x.png'), '--steps', '2'], none)).toBe(1);
    expect(none.stderr.join('\n')).toMatch(/needs an instruction/);
    const bad = capture(env);
    expect(await main(['run', 'edit', path.join(tmp, 'in.png'), '-o', path.join(tmp, 'x.png'), '--guidance', 'lots'], bad)).toBe(2);
    expect(bad.stderr.join('\n')).toMatch(/--guidance must be a number/);
  });

  it('a truncated file shows the pack as invalid; verify-diffusers catches a same-size change', async () => {
    const copy = path.join(tmp, 'tampered-packs');
    await cp(userPacks, copy, { recursive: true });
    const tEnv = testEnv(tmp, copy);
    await truncate(path.join(copy, PACKS.inpaint, 'unet', 'model.onnx'), 100);
    const data = path.join(copy, PACKS.edit, 'unet', 'model.onnx_data');
    const bytes = await readFile(data);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0x01, bytes.length >> 1);
    await writeFile(data, bytes);

    const io = capture(tEnv);
    expect(await main(['models'], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(new RegExp(`${PACKS.inpaint}\\s+.*INVALID: "unet/model.onnx" has 100 bytes but the manifest says \\d+ \\(truncated or replaced file\\)`));
    const v = capture(tEnv);
    expect(await main(['verify-diffusers', path.join(copy, PACKS.edit)], v)).toBe(1);
    expect(v.stderr.join('\n')).toMatch(/"unet\/model.onnx_data" failed its checksum/);
    const ok = capture(tEnv);
    expect(await main(['verify-diffusers', path.join(copy, PACKS.backbone)], ok)).toBe(0);
    const run = capture(tEnv);
    expect(await main(['run', 'edit', path.join(tmp, 'in.png'), '-o', path.join(tmp, 'never.png'), '--prompt', 'make it dark', '--steps', '2'], run)).toBe(1);
    expect(run.stderr.join('\n')).toMatch(/failed its checksum/);
  });
});
