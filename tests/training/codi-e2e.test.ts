/**
 * The CI-sized end-to-end run of the training module, on a synthetic ×2 restoration task
 * (16×16 px targets, 8×8 inputs → 4×4×48 latents): pretrain a backbone, fine-tune a
 * conditional teacher with the v-loss, distil a CoDi student FROM THAT TEACHER (CM-II style
 * initialisation; the paper adapts the pretrained model instead), then on held-out items
 * assert that 4-step CoDi sampling beats the teacher's 4-step DDIM in PSNR, with both far
 * above a trivial baseline (the teacher with its condition zeroed). The student's pack is
 * exported, validated (schema, hashes, ONNX vs TF.js) and run by the engine through
 * `codi run`.
 *
 * CI departures from the paper defaults, all config switches (defaults unchanged):
 *   net 'ci' (one level, 64 ch; see NET_PRESETS), LR 3e-3 with a 20-step warm-up, EMA 0.9,
 *   batch 64, no weight decay; teacher μ-LR ×40 (μ opens from 0 in a few steps); the student
 *   draws t per sample (tSampling 'perSample'), which in our short runs learned faster than
 *   the paper's shared t (held-out CoDi-4 16.2 vs 15.0 dB after 100 steps).
 *
 * What the comparison does and does not show: the student gets its own steps on top of the
 * teacher's, as distillation does. In our measurements at this scale, a teacher trained for
 * the same TOTAL steps with the v-loss scores higher than the student (17.1 vs 16.2 dB), so
 * this run shows that CoDi distillation improves on its teacher's 4-step sampling, not the
 * paper's equal-compute result.
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { parseManifest } from '../../core/packs/manifest.ts';
import { Rng } from '../../core/rng.ts';
import { NET_PRESETS } from '../../training/cli/train.ts';
import { writeTrainedPack } from '../../training/cli/pack-export.ts';
import { readDataset } from '../../training/data/dataset-reader.ts';
import { writeSyntheticRestoreTask } from '../../training/data/synthetic-task.ts';
import { initTrainingBackend } from '../../training/tf/backend.ts';
import { conditionPsnr, evaluateSampling } from '../../training/trainer/sampling-eval.ts';
import { Trainer } from '../../training/trainer/trainer.ts';
import type { TrainConfig } from '../../training/trainer/trainer.ts';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');

/** Step budget per stage (batch 64 of 4×4 latents); ≈ 3–4 minutes on a busy 2-core machine. */
const STEPS = { pretrain: 100, teacher: 150, codi: 100 };
const SIZE = 16;

describe('CoDi end-to-end (CI-sized)', () => {
  it('pretrain → teacher → CoDi on synthetic ×2 restoration: CoDi-4 beats teacher DDIM-4 on held-out PSNR; the pack runs in the engine', async () => {
    const tStart = performance.now();
    const times: Record<string, number> = {};
    let tLap = tStart;
    const lap = (name: string) => {
      const now = performance.now();
      times[name] = (now - tLap) / 1000;
      tLap = now;
    };
    const backend = await initTrainingBackend({ prefer: 'wasm', log: () => {} });
    const root = await mkdtemp(path.join(os.tmpdir(), 'codi-e2e-'));
    try {
      // 1. data: written in the dataset format, read back by the same reader as real data
      const dataDir = await writeSyntheticRestoreTask({ dir: path.join(root, 'data'), size: SIZE, train: 256, val: 16, seed: 7 });
      const ds = await readDataset(dataDir);
      const conditional = { items: ds.train, geometry: ds.geometry };
      const unconditional = { items: ds.train.map((i) => ({ x: i.x })), geometry: { ...ds.geometry, condChannels: 0 } };
      lap('data');

      const common: Partial<TrainConfig> = {
        net: NET_PRESETS.ci,
        batchSize: 64,
        logEvery: 1000,
        emaDecay: 0.9,
        warmupSteps: 20,
        optimizer: { lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clipNorm: 1 },
      };
      // 2. pretrain the unconditional backbone (v-loss)
      const pre = Trainer.create({ ...common, method: 'pretrain', steps: STEPS.pretrain }, unconditional);
      expect((await pre.run()).status).toBe('done');
      const backbone = pre.exportWeights().backbone;
      pre.dispose();
      lap('pretrain');
      // 3. the conditional teacher (v-loss on backbone + fresh adapter, μ from 0)
      const teacher = Trainer.create({ ...common, method: 'teacher', steps: STEPS.teacher, muLrScale: 40 }, conditional, { backbone });
      expect((await teacher.run()).status).toBe('done');
      lap('teacher');
      // 4. CoDi distilled from the teacher (paper switches except t drawn per sample)
      const codi = Trainer.create(
        { ...common, method: 'codi', steps: STEPS.codi, codi: { ...Trainer.defaults().codi, tSampling: 'perSample' } },
        conditional,
        teacher.exportWeights(),
      );
      expect((await codi.run()).status).toBe('done');
      lap('codi');

      // 5. held-out evaluation, the same initial noise for every sampler
      const sched = codi.schedule;
      const evalOpts = { steps: 4, distillSteps: 50, seed: 99 };
      const teacherDdim = await evaluateSampling(teacher.denoisers().ema, ds.val, ds.geometry, sched, { ...evalOpts, kind: 'ddim' });
      const teacherDpm = await evaluateSampling(teacher.denoisers().ema, ds.val, ds.geometry, sched, { ...evalOpts, kind: 'dpmpp-2m' });
      const student = await evaluateSampling(codi.denoisers().ema, ds.val, ds.geometry, sched, { ...evalOpts, kind: 'codi' });
      const studentDdim = await evaluateSampling(codi.denoisers().ema, ds.val, ds.geometry, sched, { ...evalOpts, kind: 'ddim' });
      // trivial baseline: the teacher without its condition (what the backbone alone can guess)
      const zeroCond = ds.val.map((i) => ({ ...i, cond: new Float32Array(i.cond!.length) }));
      const blind = await evaluateSampling(teacher.denoisers().ema, zeroCond, ds.geometry, sched, { ...evalOpts, kind: 'ddim' });
      const floor = conditionPsnr(ds.val, ds.geometry);
      lap('eval');
      console.info(
        `[codi-e2e] backend ${backend.name}; held-out PSNR on ${ds.val.length} ${SIZE}×${SIZE} images: CoDi-4 ${student.psnr.toFixed(2)} dB, ` +
          `teacher DDIM-4 ${teacherDdim.psnr.toFixed(2)} dB, teacher DPM-Solver++(2M)-4 ${teacherDpm.psnr.toFixed(2)} dB, ` +
          `student with DDIM-4 ${studentDdim.psnr.toFixed(2)} dB, teacher with zeroed condition ${blind.psnr.toFixed(2)} dB, ` +
          `bicubic condition itself ${floor.toFixed(2)} dB`,
      );
      expect(student.psnr).toBeGreaterThan(teacherDdim.psnr);
      expect(teacherDdim.psnr).toBeGreaterThan(blind.psnr + 3);
      expect(student.psnr).toBeGreaterThan(blind.psnr + 3);

      // 6. export the student's pack and validate it
      const packsDir = path.join(root, 'packs');
      const packDir = path.join(packsDir, 'e2e-restore-x2');
      const w = codi.exportWeights();
      await writeTrainedPack({
        out: packDir,
        name: 'e2e-restore-x2',
        task: 'restore',
        method: 'codi',
        net: codi.config.net,
        schedule: codi.config.schedule,
        distillSteps: codi.config.distillSteps,
        backbone: w.backbone,
        adapter: w.adapter!,
        condChannels: ds.geometry.condChannels,
        textDim: 0,
        upscale: 2,
        tile: SIZE,
        training: { steps: STEPS.codi, wallSeconds: times.codi!, metrics: { psnr_codi_4: student.psnr, psnr_teacher_ddim_4: teacherDdim.psnr } },
      });
      const manifest = parseManifest(await readFile(path.join(packDir, 'manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({ task: 'restore', method: 'codi', conditionChannels: 48, upscale: 2, sampler: { kind: 'codi', steps: 4, distillSteps: 50 } });
      for (const f of manifest.files) {
        const bytes = await readFile(path.join(packDir, f.path));
        expect(bytes.byteLength).toBe(f.bytes);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      }
      expect(manifest.files.map((f) => f.role).sort()).toEqual(['denoiser', 'other']);

      // 7. the exported graph computes what the TF.js EMA model computes
      const session = await ort.InferenceSession.create(path.join(packDir, 'denoiser.onnx'));
      const rng = new Rng(5);
      const [B, h, wd, C] = [2, ds.geometry.h, ds.geometry.w, 48];
      const zNchw = rng.fillGaussian(new Float32Array(B * C * h * wd));
      const cNchw = new Float32Array(B * C * h * wd);
      cNchw.set(ds.val[0]!.cond!, 0);
      cNchw.set(ds.val[1]!.cond!, C * h * wd);
      const tVals = new Float32Array([720, 200]);
      const res = await session.run({
        z: new ort.Tensor('float32', zNchw, [B, C, h, wd]),
        t: new ort.Tensor('float32', tVals, [B]),
        cond: new ort.Tensor('float32', cNchw, [B, C, h, wd]),
      });
      const vOrt = res.v!.data as Float32Array;
      const vTf = tf.tidy(() => {
        const toNhwc = (a: Float32Array) => tf.tensor4d(a, [B, C, h, wd]).transpose<tf.Tensor4D>([0, 2, 3, 1]);
        const v = codi.denoisers().ema({ z: toNhwc(zNchw), t: tf.tensor1d(tVals), cond: toNhwc(cNchw) });
        return v.transpose([0, 3, 1, 2]).dataSync();
      });
      let maxDiff = 0;
      for (let i = 0; i < vOrt.length; i++) maxDiff = Math.max(maxDiff, Math.abs(vOrt[i]! - vTf[i]!));
      expect(maxDiff).toBeLessThan(1e-3);
      await session.release();
      teacher.dispose();
      codi.dispose();
      lap('export');

      // 8. the engine loads the pack and `codi run` restores a held-out low-res input with it
      const items = (await readFile(path.join(dataDir, 'items.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { split: string; input: string; target: string });
      const held = items.find((i) => i.split === 'val')!;
      const outPng = path.join(root, 'out.png');
      await mkdir(path.join(root, 'user-packs'), { recursive: true });
      const env = { ...process.env, CODI_PACKS: packsDir, CODI_USER_PACKS: path.join(root, 'user-packs'), CODI_EP: 'cpu', CODI_THREADS: '1' };
      const args = [path.join(REPO, 'bin/codi.mjs'), 'run', 'e2e-restore-x2', path.join(dataDir, held.input), '-o', outPng, '--steps', '4'];
      const cli = await run(process.execPath, args, { env, cwd: REPO, timeout: 120_000 });
      const out = await sharp(outPng).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([out.info.width, out.info.height]).toEqual([SIZE, SIZE]);
      const target = await sharp(path.join(dataDir, held.target)).removeAlpha().raw().toBuffer();
      let se = 0;
      for (let i = 0; i < target.length; i++) se += ((out.data[i]! - target[i]!) / 127.5) ** 2;
      const enginePsnr = 10 * Math.log10(4 / (se / target.length));
      lap('engine');
      console.info(`[codi-e2e] codi run: "${cli.stdout.trim().split('\n').pop()}"; engine output PSNR ${enginePsnr.toFixed(2)} dB on held-out ${held.target}`);
      // the engine's 4-step output uses the condition: far above what the blind teacher manages
      expect(enginePsnr).toBeGreaterThan(blind.psnr + 3);
      console.info(`[codi-e2e] wall seconds: ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; total ${((performance.now() - tStart) / 1000).toFixed(1)}`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 900_000);
});
