/**
 * CoDi SD adapter packs on tiny torch-exported graphs with the export contract's IO names:
 * `codi import` of an export (backbone + adapter pinned by the UNet's sha256, refusals), then
 * `codi run inpaint|restore|edit` with 1, 2 and 4 steps through the real CLI and engine, and the
 * sampler in process (finite outputs, step counts differ, cancel, the plain UNet with μ = 0).
 * Skipped, with the reason, when no Python with torch is found to build the fixtures.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { main } from '../../electron/cli/codi.ts';
import { OrtRuntime } from '../../electron/engine/ort.ts';
import { generate, loadDiffusersPipeline } from '../../electron/engine/diffusers/pipeline.ts';
import { codiGenerate, loadCodiAdapter } from '../../electron/engine/diffusers/codi-pipeline.ts';
import type { F32Tensor } from '../../core/tensor/ops.ts';
import { AbortError } from '../../core/samplers/index.ts';
import { capture, changedInsideMask, readRgb, testEnv } from './fixtures.ts';
import { torchPython, writeTinyCodiExport } from './codi-fixtures.ts';

const W = 40;
const H = 30;
let tmp: string;
let userPacks: string;
let env: NodeJS.ProcessEnv;
let mask: Uint8Array;
const src = (n: string) => path.join(tmp, 'src', n);

interface Cli {
  code: number;
  out: string;
  err: string;
}
const imported: Cli[] = [];

async function cli(argv: string[], e = env): Promise<Cli> {
  const io = capture(e);
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}


const runIf = torchPython.python ? describe : describe.skip;
if (!torchPython.python) console.warn(`tests/diffusers/codi-sd.test.ts skipped: ${torchPython.reason}`);

runIf('CoDi SD adapter packs', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-sd-'));
    userPacks = path.join(tmp, 'user-packs');
    env = testEnv(tmp, userPacks);
    // inpaint and edit share seed 0, hence one backbone UNet byte for byte; restore is a v-prediction backbone.
    await writeTinyCodiExport(src('inpaint'), { task: 'inpaint', seed: 0 });
    await writeTinyCodiExport(src('edit'), { task: 'edit', seed: 0 });
    await writeTinyCodiExport(src('restore'), { task: 'restore', prediction: 'v_prediction', seed: 1 });
    const raw = Buffer.alloc(W * H * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 251;
    await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toFile(path.join(tmp, 'in.png'));
    mask = new Uint8Array(W * H);
    for (let y = 8; y < 20; y++) for (let x = 10; x < 26; x++) mask[y * W + x] = 255;
    await sharp(Buffer.from(mask), { raw: { width: W, height: H, channels: 1 } }).png().toFile(path.join(tmp, 'mask.png'));
    // Imported here so every case (also one picked with -t) finds the packs; the first case checks what import said.
    imported.push(await cli(['import', src('inpaint'), '--name', 'codi-inpaint']));
    imported.push(await cli(['import', src('edit'), '--name', 'codi-edit']));
    imported.push(await cli(['import', src('restore'), '--name', 'codi-restore', '--upscale', '2']));
  }, 300_000);
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('codi import installs the backbone and the adapter pinned to its UNet; a second export on the same UNet reuses it', async () => {
    const [a, b, c] = imported as [Cli, Cli, Cli];
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(/imported backbone codi-inpaint-backbone/);
    expect(a.out).toMatch(/imported codi-inpaint \(CoDi inpaint adapter on codi-inpaint-backbone/);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toMatch(/using installed backbone codi-inpaint-backbone/);
    expect(c.code, c.err).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(userPacks, 'codi-inpaint', 'manifest.json'), 'utf8')) as { backbone: { pack: string; sha256: string }; sampler: unknown; files: { path: string; role: string; inputs?: { name: string }[] }[] };
    const backbone = JSON.parse(await readFile(path.join(userPacks, 'codi-inpaint-backbone', 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
    expect(manifest.backbone).toEqual({ pack: 'codi-inpaint-backbone', sha256: backbone.files.find((f) => f.path === 'unet/model.onnx')!.sha256 });
    expect(manifest.sampler).toEqual({ kind: 'codi', steps: 4, maxSteps: 4, distillSteps: 50 });
    const graph = manifest.files.find((f) => f.path === 'codi_adapter/model.onnx')!;
    expect(graph.role).toBe('adapter');
    expect(graph.inputs!.map((i) => i.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'condition']);
    expect(await readFile(path.join(userPacks, 'codi-inpaint', 'MODEL_CARD.md'), 'utf8')).toMatch(/pinned to its UNet \(sha256 [0-9a-f]{64}\)/);

    const models = await cli(['models']);
    expect(models.out).toMatch(/codi-inpaint\s+inpaint\s+4 \(max 4\)\s+pe-codi\s+user\s+ok; needs codi-inpaint-backbone\n/);
    expect(models.out).toMatch(/codi-edit\s+edit\s+4 \(max 4\)\s+pe-codi\s+user\s+ok; needs codi-inpaint-backbone; takes a free-text prompt/);
    expect(models.out).toMatch(/codi-restore\s+restore ×2\s+4 \(max 4\)\s+pe-codi\s+user\s+ok; needs codi-restore-backbone/);
  }, 120_000);

  it('refuses a mismatched backbone, a folder mixing exports and a bad codi_adapter.json, writing nothing', async () => {
    const other = await cli(['import', src('inpaint'), '--name', 'codi-x', '--backbone', 'codi-restore-backbone']);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/backbone pack "codi-restore-backbone" has a different UNet \(sha256 [0-9a-f]{12}…\) from the one this adapter was trained on/);
    const mixed = path.join(tmp, 'mixed');
    await cp(src('inpaint'), mixed, { recursive: true });
    await cp(path.join(src('restore'), 'unet', 'model.onnx'), path.join(mixed, 'unet', 'model.onnx'));
    const m = await cli(['import', mixed, '--name', 'codi-mixed']);
    expect(m.code).toBe(1);
    expect(m.err).toMatch(/codi_adapter\/ was trained on a backbone UNet with sha256 [0-9a-f]{12}…, but this folder's unet\/model.onnx has sha256 [0-9a-f]{12}…/);
    const bad = path.join(tmp, 'bad-json');
    await cp(src('edit'), bad, { recursive: true });
    const jsonFile = path.join(bad, 'codi_adapter', 'codi_adapter.json');
    const j = JSON.parse(await readFile(jsonFile, 'utf8')) as Record<string, unknown>;
    await writeFile(jsonFile, JSON.stringify({ ...j, condition: { channels: 5, kind: 'edit' } }));
    const bj = await cli(['import', bad, '--name', 'codi-bad']);
    expect(bj.code).toBe(1);
    expect(bj.err).toMatch(/codi_adapter\.json is invalid at .*condition\.channels does not match the task/);
    await writeFile(jsonFile, JSON.stringify({ ...j, mixPoints: 7 }));
    const bm = await cli(['import', bad, '--name', 'codi-bad']);
    expect(bm.err).toMatch(/must output adapter_feature_0 … adapter_feature_6 and adapter_mu/);
    const models = await cli(['models']);
    expect(models.out).not.toMatch(/codi-x|codi-mixed|codi-bad/);
  }, 120_000);

  it('codi run inpaint with 1, 2 and 4 steps: right size, every pixel outside the mask kept, step counts differ', async () => {
    const outs: Buffer[] = [];
    for (const steps of [1, 2, 4]) {
      const out = path.join(tmp, `inpaint-${steps}.png`);
      const r = await cli(['run', 'codi-inpaint', path.join(tmp, 'in.png'), '--mask', path.join(tmp, 'mask.png'), '-o', out, '--steps', String(steps), '--seed', '3']);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(new RegExp(`denoising\\s+step ${steps}/${steps}`));
      expect(r.err).toMatch(/CoDi inpaint adapter on "codi-inpaint-backbone"/);
      const a = await readRgb(path.join(tmp, 'in.png'));
      const b = await readRgb(out);
      expect([b.width, b.height]).toEqual([W, H]);
    const changed = changedInsideMask(a.data, b.data, mask, (same) => expect(same).toBe(true));
      expect(changed).toBeGreaterThan(100);
      outs.push(b.data);
    }
    expect(outs[0]!.equals(outs[1]!)).toBe(false);
    expect(outs[1]!.equals(outs[2]!)).toBe(false);
    const five = await cli(['run', 'codi-inpaint', path.join(tmp, 'in.png'), '--mask', path.join(tmp, 'mask.png'), '-o', path.join(tmp, 'never.png'), '--steps', '5']);
    expect(five.code).not.toBe(0);
    expect(five.err).toMatch(/runs 1 to 4 steps/);
  }, 180_000);

  it('codi run restore (×2, v-prediction backbone) and edit (instruction through the text encoder) with 1, 2 and 4 steps', async () => {
    const restored: Buffer[] = [];
    const edited: Buffer[] = [];
    for (const steps of [1, 2, 4]) {
      const r = path.join(tmp, `restore-${steps}.png`);
      const rr = await cli(['run', 'codi-restore', path.join(tmp, 'in.png'), '-o', r, '--steps', String(steps)]);
      expect(rr.code, rr.err).toBe(0);
      const ri = await readRgb(r);
      expect([ri.width, ri.height]).toEqual([2 * W, 2 * H]);
      restored.push(ri.data);
      const e = path.join(tmp, `edit-${steps}.png`);
      const er = await cli(['run', 'codi-edit', path.join(tmp, 'in.png'), '-o', e, '--steps', String(steps), '--prompt', 'make it dark']);
      expect(er.code, er.err).toBe(0);
      expect(er.err).toMatch(/instruction: "make it dark"/);
      const ei = await readRgb(e);
      expect([ei.width, ei.height]).toEqual([W, H]);
      edited.push(ei.data);
    }
    expect(restored[0]!.equals(restored[2]!)).toBe(false);
    expect(edited[0]!.equals(edited[2]!)).toBe(false);
    const other = path.join(tmp, 'edit-other.png');
    expect((await cli(['run', 'codi-edit', path.join(tmp, 'in.png'), '-o', other, '--steps', '4', '--prompt', 'turn the sky blue'])).code).toBe(0);
    expect((await readRgb(other)).data.equals(edited[2]!)).toBe(false);
    const none = await cli(['run', 'codi-edit', path.join(tmp, 'in.png'), '-o', path.join(tmp, 'never.png'), '--steps', '2']);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/needs an instruction/);
  }, 180_000);

  describe('in process', () => {
    const runtime = new OrtRuntime({ providers: ['cpu'], threads: 1 });
    const image = (h: number, w: number): F32Tensor => {
      const d = new Float32Array(3 * h * w);
      for (let i = 0; i < d.length; i++) d[i] = Math.sin(i * 0.37) * 0.8;
      return { data: d, shape: [1, 3, h, w] };
    };

    it('outputs are finite and deterministic; 1, 2, 4 steps differ; cancel stops between steps', async () => {
      const base = await loadDiffusersPipeline(path.join(userPacks, 'codi-inpaint-backbone'), runtime);
      const adapter = await loadCodiAdapter(path.join(userPacks, 'codi-edit'), runtime, base);
      const req = { task: 'edit' as const, image: image(48, 64), instruction: 'make it dark', seed: 9 };
      const outs: F32Tensor[] = [];
      for (const steps of [1, 2, 4]) {
        const o = await codiGenerate(base, adapter, { ...req, steps });
        expect(o.shape).toEqual([1, 3, 48, 64]);
        expect(o.data.every((v) => Number.isFinite(v))).toBe(true);
        outs.push(o);
      }
      expect(Array.from((await codiGenerate(base, adapter, { ...req, steps: 4 })).data)).toEqual(Array.from(outs[2]!.data));
      expect(Array.from(outs[0]!.data)).not.toEqual(Array.from(outs[1]!.data));
      expect(Array.from(outs[1]!.data)).not.toEqual(Array.from(outs[2]!.data));
      const ctrl = new AbortController();
      const steps: number[] = [];
      const run = codiGenerate(base, adapter, {
        ...req,
        steps: 4,
        signal: ctrl.signal,
        onProgress: (p) => {
          if (p.stage === 'sampling' && p.step === 1) ctrl.abort();
          if (p.step !== undefined) steps.push(p.step);
        },
      });
      await expect(run).rejects.toBeInstanceOf(AbortError);
      expect(Math.max(...steps)).toBe(1);
    }, 120_000);

    it('the backbone pack alone generates: zero features and μ = 0 (the pinned adapter differs from it)', async () => {
      const base = await loadDiffusersPipeline(path.join(userPacks, 'codi-inpaint-backbone'), runtime);
      expect(base.sidecar.unet?.adapter?.strides).toEqual([1, 1, 2, 2, 2]);
      const t2i = await generate(base, { prompt: 'a cat', width: 64, height: 64, steps: 2, seed: 1, guidanceScale: 2 });
      expect(t2i.shape).toEqual([1, 3, 64, 64]);
      expect(t2i.data.every((v) => Number.isFinite(v))).toBe(true);
      const wrong = await loadDiffusersPipeline(path.join(userPacks, 'codi-restore-backbone'), runtime);
      await expect(loadCodiAdapter(path.join(userPacks, 'codi-inpaint'), runtime, wrong)).rejects.toThrow(/was trained on backbone "codi-inpaint-backbone"/);
    }, 120_000);
  });
});
