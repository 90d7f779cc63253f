/**
 * Hostile and broken model packs through the engine's real registry, ORT runtime and job
 * queue: each is refused (listing or load) or its job stopped, with a message that names the
 * problem, and ONNX Runtime never receives the bytes of a pack that failed verification.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { initParams } from '../../core/nn/params.ts';
import { adapterParamSpecs, backboneParamSpecs } from '../../core/nn/trace.ts';
import type { CodiEvent, JobFailed, PackInfo } from '../../electron/contract/schemas.ts';
import { encodeEntry, lenField, strField, varField } from '../../electron/engine/diffusers/onnx-wire.ts';
import { createImageCodec } from '../../electron/engine/images/codec.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import type { ExternalDataFile, LoadedSession } from '../../electron/engine/ort.ts';
import { EngineService } from '../../electron/engine/service.ts';
import { onnxBytes } from '../../training/export/export-onnx.ts';
import { sha256Hex, writePack } from '../../training/export/pack.ts';
import { makeTestPacks, tinyNet } from '../engine/fixtures/packs.ts';
import type { TestPacks } from '../engine/fixtures/packs.ts';

let tmp: string;
let packs: TestPacks;
let bad: string;
/** sha256 keys of every graph ORT was asked to load. */
const ortLoads: string[] = [];

class SpyRuntime extends OrtRuntime {
  override load(key: string, model: Uint8Array, ext?: readonly ExternalDataFile[]): Promise<LoadedSession> {
    ortLoads.push(key);
    return super.load(key, model, ext);
  }
}

type Manifest = { name: string; files: { path: string; sha256: string; bytes: number; inputs?: { name: string; dtype: string; shape: (number | string)[] }[] }[] };

/** A copy of the test restore pack under a new name, then `mutate(dir, manifest)`; the manifest is rewritten after. */
async function variant(name: string, mutate: (dir: string, m: Manifest) => Promise<void> | void): Promise<void> {
  const dir = path.join(bad, name);
  await cp(path.join(packs.dir, packs.restore), dir, { recursive: true });
  const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  m.name = name;
  await mutate(dir, m);
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
}

/** Re-describe a file the attacker rewrote, so size and hash match (only deeper checks can catch it). */
async function restamp(dir: string, m: Manifest, file: string): Promise<void> {
  const bytes = new Uint8Array(await readFile(path.join(dir, file)));
  const f = m.files.find((x) => x.path === file)!;
  f.sha256 = sha256Hex(bytes);
  f.bytes = bytes.byteLength;
}

/** An extra TensorProto with external data, merged into the graph by protobuf's repeated-field rule. */
function withExternalTensor(model: Uint8Array, location: string): Uint8Array {
  const tensor = [varField(1, 16), varField(2, 1), strField(8, 'stolen'), lenField(13, encodeEntry('location', location)), lenField(13, encodeEntry('length', '64')), varField(14, 1)];
  const join = (parts: Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));
  return new Uint8Array(join([model, lenField(7, lenField(5, join(tensor)))]));
}

let service: EngineService;
const events: CodiEvent[] = [];
let imageId = '';

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-faults-packs-'));
  packs = await makeTestPacks(path.join(tmp, 'good'));
  bad = path.join(tmp, 'bad');
  await mkdir(bad);
  await writeFile(path.join(tmp, 'secret.bin'), new Uint8Array(4096).fill(7));

  await variant('flipped-byte', async (dir) => {
    const f = path.join(dir, 'denoiser.onnx');
    const b = await readFile(f);
    b.writeUInt8(b.readUInt8(b.length >> 1) ^ 0x01, b.length >> 1);
    await writeFile(f, b);
  });
  await variant('truncated', (dir) => truncate(path.join(dir, 'denoiser.onnx'), 1000));
  await variant('truncated-restamped', async (dir, m) => {
    await truncate(path.join(dir, 'denoiser.onnx'), 1000);
    await restamp(dir, m, 'denoiser.onnx');
  });
  await variant('path-dotdot', (_dir, m) => {
    m.files[0]!.path = '../good/test-restore-x2/denoiser.onnx';
  });
  await variant('path-absolute', (_dir, m) => {
    m.files[0]!.path = '/etc/passwd';
  });
  await variant('path-symlink', async (dir) => {
    await rm(path.join(dir, 'denoiser.onnx'));
    await symlink(path.join(packs.dir, packs.restore, 'denoiser.onnx'), path.join(dir, 'denoiser.onnx'));
  });
  await variant('path-symlinked-dir', async (dir, m) => {
    await symlink(path.join(packs.dir, packs.restore), path.join(dir, 'sub'));
    m.files[0]!.path = 'sub/denoiser.onnx';
  });
  for (const [name, loc] of [['extdata-dotdot', '../../secret.bin'], ['extdata-absolute', path.join(tmp, 'secret.bin')], ['extdata-nested', 'x/../../../secret.bin']] as const) {
    await variant(name, async (dir, m) => {
      const f = path.join(dir, 'denoiser.onnx');
      await writeFile(f, withExternalTensor(new Uint8Array(await readFile(f)), loc));
      await restamp(dir, m, 'denoiser.onnx');
    });
  }
  await variant('wrong-input-name', (_dir, m) => {
    m.files[0]!.inputs!.find((i) => i.name === 'z')!.name = 'latent';
  });
  await variant('wrong-input-shape', (_dir, m) => {
    m.files[0]!.inputs!.find((i) => i.name === 'cond')!.shape = ['batch', 64, 'height', 'width'];
  });
  await variant('wrong-input-dtype', (_dir, m) => {
    m.files[0]!.inputs!.find((i) => i.name === 't')!.dtype = 'int64';
  });
  // A pack whose weights are NaN, written by the project's own exporter.
  {
    const dir = path.join(bad, 'nan-weights');
    await mkdir(dir);
    const nan = <T extends Record<string, { data: Float32Array }>>(rec: T): T => {
      for (const p of Object.values(rec)) p.data.fill(Number.NaN);
      return rec;
    };
    const backbone = nan(initParams(backboneParamSpecs(tinyNet), 1));
    const adapter = nan(initParams(adapterParamSpecs(tinyNet, { condChannels: 48, textDim: 0 }), 2));
    await writeFile(path.join(dir, 'denoiser.onnx'), onnxBytes(tinyNet, 'denoiser', { backbone, adapter }));
    const good = JSON.parse(await readFile(path.join(packs.dir, packs.restore, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    const { schema: _s, files: _f, modelCard: _c, ...fields } = good;
    await writePack(dir, { manifest: { ...(fields as object), name: 'nan-weights' } as never, files: [{ path: 'denoiser.onnx', role: 'denoiser' }], modelCard: '# NaN\n\nBroken on purpose.\n' });
  }

  service = new EngineService({
    packDirs: [
      { path: packs.dir, source: 'bundled' },
      { path: bad, source: 'user' },
    ],
    runtime: new SpyRuntime({ providers: ['cpu'], threads: 1 }),
    codec: createImageCodec({}),
    emit: (e) => events.push(e),
  });
  await service.init();
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 9, g: 99, b: 199 } } }).png().toBuffer();
  const opened = await service.handlers.openImage({ source: 'bytes', bytes: new Uint8Array(png) });
  if (!opened.ok) throw new Error(opened.error.message);
  imageId = opened.value.imageId;
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function listed(name: string): Promise<PackInfo> {
  const r = await service.handlers.listPacks({});
  if (!r.ok) throw new Error(r.error.message);
  const p = r.value.packs.find((x) => x.name === name || x.title === name);
  if (!p) throw new Error(`pack ${name} not listed`);
  return p;
}

/** Run restore with `pack`; the refusal comes back either at submit (listing) or as the job's failure. */
async function runWith(pack: string): Promise<{ code: string; message: string }> {
  const r = await service.handlers.runTool({ tool: 'restore', pack, imageId, seed: 0, priority: 'interactive' });
  if (!r.ok) return r.error;
  const jobId = r.value.jobId;
  for (;;) {
    const e = events.find((x) => (x.type === 'job-failed' && x.failed.jobId === jobId) || (x.type === 'job-done' && x.done.jobId === jobId));
    if (e?.type === 'job-failed') return { code: e.failed.code, message: e.failed.message };
    if (e?.type === 'job-done') return { code: 'done', message: e.done.notes.join('; ') };
    await new Promise((res) => setTimeout(res, 20));
  }
}

const SHA_OF = async (name: string) => sha256Hex(new Uint8Array(await readFile(path.join(bad, name, 'denoiser.onnx'))));

describe('faults: model packs', () => {
  it('control: the good restore pack runs', async () => {
    expect((await runWith(packs.restore)).code).toBe('done');
  });

  it('checksum-mismatch: a same-size file with one flipped bit is refused before ORT sees it', async () => {
    const r = await runWith('flipped-byte');
    expect(r).toMatchObject({ code: 'pack-invalid' });
    expect(r.message).toMatch(/"denoiser.onnx" failed its checksum .* corrupt or was modified/);
    expect(ortLoads).not.toContain(await SHA_OF('flipped-byte'));
    expect((await listed('flipped-byte')).status).toBe('invalid');
  });

  it('truncated-onnx: a truncated graph is refused by size at listing, and by the graph scan when its manifest was re-stamped', async () => {
    const t = await listed('truncated');
    expect(t.status).toBe('invalid');
    expect(t.problem).toMatch(/"denoiser.onnx" has 1000 bytes but the manifest says \d+ \(truncated or replaced file\)/);
    expect((await runWith('truncated')).code).toBe('pack-invalid');
    const r = await runWith('truncated-restamped');
    expect(r.code).toBe('pack-invalid');
    expect(r.message).toMatch(/"denoiser.onnx" is not a valid ONNX graph/);
    expect(ortLoads).not.toContain(await SHA_OF('truncated-restamped'));
  });

  it('manifest-path-escape: ../, absolute paths, a symlinked file and a symlinked folder are refused at listing', async () => {
    for (const [name, why] of [
      ['path-dotdot', /path must stay inside the pack/],
      ['path-absolute', /path must stay inside the pack/],
      ['path-symlink', /"denoiser.onnx" is a symbolic link/],
      ['path-symlinked-dir', /resolves outside the pack through a symbolic link/],
    ] as const) {
      const p = await listed(name);
      expect(p.status, name).toBe('invalid');
      expect(p.problem, name).toMatch(why);
      expect((await runWith(name)).code, name).toBe('pack-invalid');
    }
  });

  it('onnx-external-data-escape: external data locations outside the pack (../, absolute, nested ..) are refused before ORT parses', async () => {
    for (const name of ['extdata-dotdot', 'extdata-absolute', 'extdata-nested']) {
      const r = await runWith(name);
      expect(r.code, name).toBe('pack-invalid');
      expect(r.message, name).toMatch(/tensor "stolen" names external data ".*secret.bin", which escapes the pack/);
      expect(ortLoads).not.toContain(await SHA_OF(name));
    }
  });

  it('wrong-io: graph inputs that differ from the manifest in name, shape or dtype are refused before ORT parses', async () => {
    const expectations = [
      ['wrong-input-name', /the graph has no input "latent"/],
      ['wrong-input-shape', /input "cond" has shape \[batch, 48, height, width\] in the graph but \[batch, 64, height, width\] in the manifest/],
      ['wrong-input-dtype', /input "t" is float32 in the graph but int64 in the manifest/],
    ] as const;
    for (const [name, why] of expectations) {
      const r = await runWith(name);
      expect(r.code, name).toBe('pack-invalid');
      expect(r.message, name).toMatch(why);
    }
  });

  it('nan-outputs: a pack whose graph outputs NaN is stopped with a clear message, and no result image is made', async () => {
    const before = service.images.size;
    const r = await runWith('nan-weights');
    expect(r.code).toBe('pack-invalid');
    expect(r.message).toMatch(/the model produced a non-finite value \(NaN\) in its output; the job was stopped instead of returning a broken image/);
    expect(service.images.size).toBe(before);
  });

  it('the good packs still work after all the refusals', async () => {
    expect((await runWith(packs.restore)).code).toBe('done');
    const failed = events.filter((e): e is CodiEvent & { type: 'job-failed' } => e.type === 'job-failed').map((e): JobFailed => e.failed);
    expect(failed.every((f) => f.message.length > 20)).toBe(true);
  });
});
