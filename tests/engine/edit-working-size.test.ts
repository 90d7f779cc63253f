/**
 * An edit pack that carries its change (manifest `carry`) runs at `carry.workingSize` when it
 * names one, not at its tile size, and carries the change to the full-size photo. So does a
 * custom pack that carries its change (a personal look): at full size it cost 66 s on a
 * 1680×1050 photo against 0.4 s for the edit pack.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { CodiEvent } from '../../electron/contract/schemas.ts';
import { createImageCodec } from '../../electron/engine/images/codec.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import { EngineService } from '../../electron/engine/service.ts';
import { jobDone } from './fixtures/job-end.ts';
import { makeTestPacks } from './fixtures/packs.ts';
import type { TestPacks } from './fixtures/packs.ts';

let tmp: string;
let packs: TestPacks;
let runtime: OrtRuntime;
const events: CodiEvent[] = [];

async function editNotes(service: EngineService, width: number, height: number, tool: 'edit' | 'custom' = 'edit'): Promise<string> {
  const png = await sharp({ create: { width, height, channels: 3, background: { r: 180, g: 120, b: 60 } } }).png().toBuffer();
  const opened = await service.handlers.openImage({ source: 'bytes', bytes: new Uint8Array(png) });
  if (!opened.ok) throw new Error(opened.error.message);
  const what = tool === 'edit' ? { tool, prompt: packs.instructions[0] } : { tool };
  const sub = await service.handlers.runTool({ ...what, imageId: opened.value.imageId, seed: 1, steps: 1, priority: 'interactive' });
  if (!sub.ok) throw new Error(sub.error.message);
  const done = await jobDone(events, sub.value.jobId);
  expect([done.width, done.height]).toEqual([width, height]);
  return done.notes.join(' ');
}

async function serviceWithCarry(carry: object | null, pack = packs.edit, changes: Record<string, unknown> = {}): Promise<EngineService> {
  const file = path.join(packs.dir, pack, 'manifest.json');
  const manifest = { ...(JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>), ...changes };
  delete manifest['carry'];
  await writeFile(file, JSON.stringify(carry ? { ...manifest, carry } : manifest));
  const service = new EngineService({ packDirs: [{ path: packs.dir, source: 'bundled' }], runtime, codec: createImageCodec({}), emit: (e) => events.push(e) });
  await service.init();
  return service;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-edit-work-'));
  packs = await makeTestPacks(path.join(tmp, 'packs'));
  runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });
});
afterAll(async () => {
  await runtime.releaseAll();
  await rm(tmp, { recursive: true, force: true });
});

describe('edit working size', () => {
  it('runs at carry.workingSize when the pack names one, else at its tile size (64 px here)', async () => {
    const withWork = await serviceWithCarry({ kind: 'gain-offset', radius: 2, samples: 1, workingSize: 32 });
    expect(await editNotes(withWork, 128, 96)).toMatch(/edited at 32×32, carried to 128×96/);
    // smaller than the working size: no downscale, the change is carried at full size
    expect(await editNotes(withWork, 32, 16)).toMatch(/carried onto the photo as a smooth gain\/offset field/);
    const without = await serviceWithCarry({ kind: 'gain-offset', radius: 2, samples: 1 });
    expect(await editNotes(without, 128, 96)).toMatch(/edited at 64×48, carried to 128×96/);
  }, 120_000);

  it('runs a custom pack that carries its change (a personal look) at its working size too', async () => {
    // the ×2 restore fixture's graph (48 condition channels, no text) as a 1× custom look
    const look = await serviceWithCarry({ kind: 'gain-offset', radius: 2, samples: 2 }, packs.restore, { task: 'custom', upscale: 1 });
    expect(await editNotes(look, 256, 160, 'custom')).toMatch(/edited at 64×48, carried to 256×160 with a gain\/offset field \(mean of 2 samples\)/);
  }, 120_000);
});
