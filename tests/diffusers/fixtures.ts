/**
 * Tiny diffusers-layout packs for the integration tests: written at test time by
 * tests/fixtures-gen/diffusers-tiny.ts and imported into a user packs folder with `codi import`
 * (the CLI entry, no engine needed). Six packs: a plain SD backbone with ControlNet residual
 * inputs, two ControlNet restore packs pinned to it (×2 and ×1), an inpainting (9-channel) and
 * an InstructPix2Pix (8-channel) pipeline, and the plain pipeline again as a latent-masking
 * inpaint pack.
 */
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../electron/cli/codi.ts';
import type { CliIo } from '../../electron/cli/codi.ts';
import { writeTinyControlNet, writeTinyPipeline } from '../fixtures-gen/diffusers-tiny.ts';

export const PACKS = {
  backbone: 'sd-tiny',
  restore: 'sd-tiny-restore-x2',
  restore1: 'sd-tiny-restore-x1',
  inpaint: 'sd-tiny-inpaint',
  /** The plain backbone imported again as an inpaint pack (latent masking). */
  inpaintLatent: 'sd-tiny-inpaint-latent',
  edit: 'sd-tiny-ip2p',
} as const;

export interface CapturedIo extends CliIo {
  stdout: string[];
  stderr: string[];
}

/** A CLI io that records its lines, with the given environment. */
export function capture(env: NodeJS.ProcessEnv): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { env, tty: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l), stdout, stderr };
}

/** Environment for the CLI and engine: an empty bundled folder, the user packs folder, CPU, one thread. */
export function testEnv(tmp: string, userPacks: string): NodeJS.ProcessEnv {
  return { ...process.env, CODI_PACKS: path.join(tmp, 'no-bundled-packs'), CODI_USER_PACKS: userPacks, CODI_EP: 'cpu', CODI_THREADS: '1' };
}

/** Write the tiny diffusers folders under `tmp/src` and `codi import` them into the env's user packs folder. */
export async function importTinyPacks(tmp: string, env: NodeJS.ProcessEnv): Promise<void> {
  const src = (n: string) => path.join(tmp, 'src', n);
  await writeTinyPipeline(src('base'), { unet: { inChannels: 4, timestep: 'int64', residuals: true } });
  await writeTinyPipeline(src('inpaint'), { unet: { inChannels: 9, timestep: 'float32', residuals: false }, externalData: false, seed: 11 });
  await writeTinyPipeline(src('ip2p'), { unet: { inChannels: 8, timestep: 'float32', residuals: false }, seed: 21 });
  await writeTinyControlNet(src('cn'), { timestep: 'int64' });
  await writeTinyControlNet(src('cn1'), { timestep: 'int64', seed: 8 });
  const commands = [
    ['import', src('base'), '--name', PACKS.backbone],
    ['import', src('cn'), '--name', PACKS.restore, '--backbone', PACKS.backbone, '--upscale', '2', '--guidance', '1'],
    ['import', src('cn1'), '--name', PACKS.restore1, '--backbone', PACKS.backbone, '--guidance', '1'],
    ['import', src('inpaint'), '--name', PACKS.inpaint],
    ['import', src('base'), '--name', PACKS.inpaintLatent, '--task', 'inpaint'],
    ['import', src('ip2p'), '--name', PACKS.edit],
  ];
  for (const argv of commands) {
    const io = capture(env);
    const code = await main(argv, io);
    if (code !== 0) throw new Error(`codi ${argv.join(' ')} failed (${code}): ${io.stderr.join('\n')}`);
  }
}

/** A written image's RGB bytes (alpha dropped). */
export async function readRgb(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Asserts (with `expectSame`, the test's expect) that every channel outside the mask (0) is
 * unchanged between the RGB buffers, and returns how many channels inside it changed.
 */
export function changedInsideMask(a: Buffer, b: Buffer, mask: Uint8Array, expectSame: (same: boolean) => void): number {
  let changedInside = 0;
  for (let i = 0; i < mask.length; i++) {
    for (let k = 0; k < 3; k++) {
      const same = a[i * 3 + k] === b[i * 3 + k];
      if (mask[i] === 0) expectSame(same);
      else if (!same) changedInside++;
    }
  }
  return changedInside;
}
