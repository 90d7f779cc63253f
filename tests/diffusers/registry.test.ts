/**
 * PackRegistry with diffusers packs, in process: ControlNet packs share their backbone's loaded
 * pipeline (each graph becomes one ORT session, read and verified once), and the listing checks
 * refuse a task the pack's graphs cannot serve.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import type { LoadedSession } from '../../electron/engine/ort.ts';
import { inspectPack, PackRegistry } from '../../electron/engine/packs/registry.ts';
import { importTinyPacks, PACKS, testEnv } from './fixtures.ts';

/** Counts every session the registry asks for, by key. */
class CountingRuntime extends OrtRuntime {
  readonly keys: string[] = [];
  override load(key: string, model: Uint8Array): Promise<LoadedSession> {
    this.keys.push(key);
    return super.load(key, model);
  }
}

let tmp: string;
let userPacks: string;
const runtime = new CountingRuntime({ providers: ['cpu'], threads: 1 });

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-diffusers-registry-'));
  userPacks = path.join(tmp, 'user-packs');
  await importTinyPacks(tmp, testEnv(tmp, userPacks));
});
afterAll(async () => {
  await runtime.releaseAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('PackRegistry with diffusers packs', () => {
  it('two ControlNet packs share one loaded backbone pipeline; no graph is loaded twice', async () => {
    const reg = new PackRegistry([{ path: userPacks, source: 'user' }], runtime);
    const recs = await reg.scan();
    expect(recs.map((r) => [r.name, r.status, r.diffusers])).toEqual([
      [PACKS.backbone, 'ok', true],
      [PACKS.inpaint, 'ok', true],
      [PACKS.inpaintLatent, 'ok', true],
      [PACKS.edit, 'ok', true],
      [PACKS.restore1, 'ok', true],
      [PACKS.restore, 'ok', true],
    ]);
    const [a, b] = await Promise.all([reg.load(PACKS.restore), reg.load(PACKS.restore1)]);
    if (a.kind !== 'diffusers' || b.kind !== 'diffusers') throw new Error('expected diffusers models');
    const bb = await reg.load(PACKS.backbone);
    if (bb.kind !== 'diffusers') throw new Error('expected a diffusers model');
    expect(a.pipeline).toBe(b.pipeline);
    expect(a.pipeline).toBe(bb.pipeline);
    expect(a.controlnet).not.toBeNull();
    expect(a.controlnet!.graph).not.toBe(b.controlnet!.graph);
    // text encoder, UNet, VAE encoder, VAE decoder of the backbone + the two ControlNets.
    expect(runtime.keys.length).toBe(6);
    expect(new Set(runtime.keys).size).toBe(6);
  });

  it('refuses a diffusers pack whose task its UNet cannot serve, and a pixel-unshuffle codec', async () => {
    const copy = path.join(tmp, 'wrong', PACKS.inpaint);
    await mkdir(path.dirname(copy), { recursive: true });
    await cp(path.join(userPacks, PACKS.inpaint), copy, { recursive: true });
    const manifestPath = path.join(copy, 'manifest.json');
    const m = JSON.parse(await readFile(manifestPath, 'utf8'));
    await writeFile(manifestPath, JSON.stringify({ ...m, task: 'edit' }));
    const rec = await inspectPack(copy, PACKS.inpaint, 'user');
    expect(rec.status).toBe('invalid');
    expect(rec.problem).toBe('a diffusers edit pack needs an InstructPix2Pix (8-channel) UNet; this one has a 9-channel UNet');
    await writeFile(manifestPath, JSON.stringify({ ...m, latent: { kind: 'pixel-unshuffle', factor: 8 } }));
    const rec2 = await inspectPack(copy, PACKS.inpaint, 'user');
    expect(rec2.problem).toMatch(/must use the autoencoder latent codec/);
    await writeFile(manifestPath, JSON.stringify(m));
    expect((await inspectPack(copy, PACKS.inpaint, 'user')).status).toBe('ok');
  });

  it('skips the staging folders of an import in progress', async () => {
    const staging = path.join(userPacks, `.${PACKS.edit}.importing-abcd`);
    await cp(path.join(userPacks, PACKS.edit), staging, { recursive: true });
    const reg = new PackRegistry([{ path: userPacks, source: 'user' }], runtime);
    const recs = await reg.scan();
    expect(recs.every((r) => r.status === 'ok')).toBe(true);
    expect(recs.length).toBe(6);
    await rm(staging, { recursive: true });
  });
});
