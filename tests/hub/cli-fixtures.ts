/** What the Hub CLI tests share: an environment pointed at the mock Hub, and an input photo + mask. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { testEnv } from '../diffusers/fixtures.ts';

/** No token and no proxy from the machine running the tests leak into them; the Hub is the mock. */
export function hubCliEnv(tmp: string, userPacks: string, hubUrl: string): NodeJS.ProcessEnv {
  return { ...testEnv(tmp, userPacks), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_ENDPOINT: hubUrl, HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '' };
}

/** Writes `in.png` (a W×H pattern) and `mask.png` (a box to fill) into tmp, and the empty bundled-packs folder testEnv names. */
export async function writeInputAndMask(tmp: string, W: number, H: number): Promise<void> {
  await mkdir(path.join(tmp, 'no-bundled-packs'), { recursive: true });
  const raw = Buffer.alloc(W * H * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 53) % 251;
  await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toFile(path.join(tmp, 'in.png'));
  const mask = Buffer.alloc(W * H);
  for (let y = 5; y < 20; y++) for (let x = 8; x < 30; x++) mask[y * W + x] = 255;
  await sharp(mask, { raw: { width: W, height: H, channels: 1 } }).png().toFile(path.join(tmp, 'mask.png'));
}
