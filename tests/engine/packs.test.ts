/**
 * Pack verification on real exported packs, then damaged copies: every damage is refused
 * with a message naming the file, before ONNX Runtime loads anything.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, link, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import { inspectPack, PackRegistry } from '../../electron/engine/packs/registry.ts';
import { readVerified, resolveInsidePack } from '../../electron/engine/packs/verify.ts';
import { makeTestPacks } from './fixtures/packs.ts';
import type { TestPacks } from './fixtures/packs.ts';

let tmp: string;
let packs: TestPacks;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-packs-'));
  packs = await makeTestPacks(path.join(tmp, 'good'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh copy of one pack to damage. */
async function copyPack(name: string, as = name): Promise<string> {
  const dir = path.join(tmp, `case-${Math.random().toString(36).slice(2)}`);
  await cp(path.join(packs.dir, name), path.join(dir, as), { recursive: true });
  return path.join(dir, as);
}

describe('pack verification', () => {
  it('accepts the exported packs and loads them into sessions whose IO matches the manifest', async () => {
    const reg = new PackRegistry([{ path: packs.dir, source: 'bundled' }], new OrtRuntime({ providers: ['cpu'], threads: 1 }));
    const recs = await reg.scan();
    expect(recs.map((r) => [r.name, r.status])).toEqual([
      ['test-backbone', 'ok'],
      ['test-edit', 'ok'],
      ['test-inpaint', 'ok'],
      ['test-restore-x2', 'ok'],
    ]);
    const m = await reg.load('test-inpaint');
    expect(m.kind).toBe('adapter');
    const e = await reg.load('test-edit');
    expect([...(e.instructions?.entries.keys() ?? [])]).toEqual(packs.instructions);
  });

  it('refuses a file whose bytes changed (checksum) before ORT sees it', async () => {
    const dir = await copyPack(packs.restore);
    const file = path.join(dir, 'denoiser.onnx');
    const bytes = await readFile(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0x01, bytes.length >> 1); // one flipped bit, same size
    await writeFile(file, bytes);
    const rec = await inspectPack(dir, packs.restore, 'user');
    expect(rec.status).toBe('ok'); // size is right; the hash is checked on load
    const manifest = rec.manifest!;
    await expect(readVerified(dir, manifest.files[0]!)).rejects.toThrow(/"denoiser.onnx" failed its checksum/);
    const reg = new PackRegistry([{ path: path.dirname(dir), source: 'user' }], new OrtRuntime({ providers: ['cpu'], threads: 1 }));
    await reg.scan();
    await expect(reg.load(packs.restore)).rejects.toThrow(/checksum/);
  });

  it('refuses a truncated file at scan time', async () => {
    const dir = await copyPack(packs.restore);
    await truncate(path.join(dir, 'denoiser.onnx'), 1000);
    const rec = await inspectPack(dir, packs.restore, 'user');
    expect(rec.status).toBe('invalid');
    expect(rec.problem).toMatch(/"denoiser.onnx" has 1000 bytes but the manifest says \d+ \(truncated/);
  });

  it('refuses manifest paths that escape the pack', async () => {
    const dir = await copyPack(packs.restore);
    const manifestPath = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    for (const evil of ['../test-edit/denoiser.onnx', '/etc/passwd', 'C:\\x.onnx', 'a/../../x.onnx']) {
      manifest.files[0].path = evil;
      await writeFile(manifestPath, JSON.stringify(manifest));
      const rec = await inspectPack(dir, packs.restore, 'user');
      expect(rec.status, evil).toBe('invalid');
      expect(rec.problem, evil).toMatch(/inside the pack|relative/);
    }
  });

  it('refuses symbolic links and hard links, even pointing at a valid file', async () => {
    const dir = await copyPack(packs.restore);
    const outside = path.join(tmp, `outside-${Date.now()}.onnx`);
    await cp(path.join(dir, 'denoiser.onnx'), outside);
    await rm(path.join(dir, 'denoiser.onnx'));
    await symlink(outside, path.join(dir, 'denoiser.onnx'));
    let rec = await inspectPack(dir, packs.restore, 'user');
    expect(rec.status).toBe('invalid');
    expect(rec.problem).toMatch(/symbolic link/);
    await rm(path.join(dir, 'denoiser.onnx'));
    await link(outside, path.join(dir, 'denoiser.onnx'));
    rec = await inspectPack(dir, packs.restore, 'user');
    expect(rec.status).toBe('invalid');
    expect(rec.problem).toMatch(/hard link/);
    // a symlinked directory on the way
    const outsideDir = path.join(tmp, `outside-dir-${Date.now()}`);
    await cp(path.join(packs.dir, packs.restore), outsideDir, { recursive: true });
    await symlink(outsideDir, path.join(dir, 'linked'));
    await expect(resolveInsidePack(dir, 'linked/denoiser.onnx')).rejects.toThrow(/outside the pack through a symbolic link/);
  });

  it('refuses an adapter whose backbone changed (sha256 pin) or is missing', async () => {
    const root = path.join(tmp, `adapters-${Date.now()}`);
    await cp(path.join(packs.dir, packs.inpaint), path.join(root, packs.inpaint), { recursive: true });
    const reg = new PackRegistry([{ path: root, source: 'user' }], new OrtRuntime({ providers: ['cpu'], threads: 1 }));
    let recs = await reg.scan();
    expect(recs[0]?.problem).toMatch(/needs the backbone pack "test-backbone"/);
    await cp(path.join(packs.dir, packs.backbone), path.join(root, packs.backbone), { recursive: true });
    const mPath = path.join(root, packs.inpaint, 'manifest.json');
    const manifest = JSON.parse(await readFile(mPath, 'utf8'));
    manifest.backbone.sha256 = '0'.repeat(64);
    await writeFile(mPath, JSON.stringify(manifest));
    recs = await reg.scan();
    expect(recs.find((r) => r.name === packs.inpaint)?.problem).toMatch(/different version of the backbone/);
  });

  it('reports an unparsable manifest without breaking the other packs', async () => {
    const root = path.join(tmp, `mixed-${Date.now()}`);
    await cp(path.join(packs.dir, packs.restore), path.join(root, packs.restore), { recursive: true });
    await cp(path.join(packs.dir, packs.edit), path.join(root, 'broken'), { recursive: true });
    await writeFile(path.join(root, 'broken', 'manifest.json'), '{"schema": 1, "name": ');
    const reg = new PackRegistry([{ path: root, source: 'user' }], new OrtRuntime({ providers: ['cpu'], threads: 1 }));
    const recs = await reg.scan();
    expect(recs.find((r) => r.name === 'broken')?.problem).toMatch(/not valid JSON/);
    expect(recs.find((r) => r.name === packs.restore)?.status).toBe('ok');
  });
});
