/**
 * `codi train --backbone <diffusers folder> --method pe-codi`: the driver of the PyTorch PE-CoDi
 * trainer for Stable-Diffusion-class backbones (training/torch/codi_torch/sd/train.py).
 *
 * Unlike the project's own small UNet, an SD backbone never runs in TF.js: its data are latents
 * encoded once with the pack's VAE and text encoder (`codi encode-dataset`), and the Python
 * trainer owns the whole run (schedule from the backbone's scheduler config, checkpoints, export
 * to ONNX). Node finds the Python, starts one process per rank (data parallel over
 * torch.distributed, env://), prints rank 0's progress in the other engines' words and turns
 * Ctrl-C into a checkpoint-and-stop.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { TORCH_PACKAGE_DIR } from './worker.ts';

export const SD_TASKS = ['inpaint', 'restore', 'edit'] as const;
export type SdTask = (typeof SD_TASKS)[number];

export interface SdTrainOptions {
  backbone: string;
  data: string;
  task: SdTask;
  out: string;
  runDir?: string;
  steps?: number;
  batch?: number;
  lr?: number;
  muLrScale?: number;
  ema?: number;
  xWeight?: number;
  seed?: number;
  checkpointEvery?: number;
  resume?: boolean;
  precision?: 'fp32' | 'bf16';
  gradCheckpointing?: boolean;
  /** The diffusers ONNX folder whose VAE, text encoder, tokenizer and scheduler the export copies (default: the backbone). */
  pack?: string;
  /** Data-parallel processes on this machine (default 1): one per GPU, or gloo ranks on CPU. */
  processes?: number;
}

export interface SdTrainIo {
  log: (line: string) => void;
  error: (line: string) => void;
  signal?: { readonly aborted: boolean };
}

/** A diffusers model folder: unet/ (config + weights, or an ONNX export) and scheduler/scheduler_config.json. */
export function isDiffusersFolder(dir: string): boolean {
  const file = (...p: string[]) => {
    try {
      return statSync(path.join(dir, ...p)).isFile();
    } catch {
      return false;
    }
  };
  return file('scheduler', 'scheduler_config.json') && (file('unet', 'config.json') || file('unet', 'model.onnx'));
}

/** The trainer's command line (python -m codi_torch.sd.train …). */
export function sdTrainArgs(o: SdTrainOptions): string[] {
  const args = ['-m', 'codi_torch.sd.train', '--backbone', path.resolve(o.backbone), '--data', path.resolve(o.data), '--task', o.task, '--out', path.resolve(o.out)];
  const opt = (flag: string, v: number | string | undefined) => {
    if (v !== undefined) args.push(flag, String(v));
  };
  opt('--run-dir', o.runDir !== undefined ? path.resolve(o.runDir) : undefined);
  opt('--steps', o.steps);
  opt('--batch', o.batch);
  opt('--lr', o.lr);
  opt('--mu-lr-scale', o.muLrScale);
  opt('--ema', o.ema);
  opt('--x-weight', o.xWeight);
  opt('--seed', o.seed);
  opt('--checkpoint-every', o.checkpointEvery);
  opt('--precision', o.precision);
  opt('--pack', o.pack !== undefined ? path.resolve(o.pack) : undefined);
  if (o.resume) args.push('--resume');
  if (o.gradCheckpointing) args.push('--grad-checkpointing');
  return args;
}

type SdEvent = Record<string, unknown> & { event: string };

const fmt = (v: unknown, digits = 4): string => (typeof v === 'number' && Number.isFinite(v) ? v.toPrecision(digits) : String(v));

/** One progress line per trainer event, worded like the other engines' (training/trainer/events.ts). */
export function formatSdEvent(e: SdEvent): string {
  switch (e.event) {
    case 'start':
      return `PE-CoDi on ${String(e.prediction)} backbone: ${String(e.trainable)} trainable / ${String(e.frozen)} frozen parameters, ${String(e.mixPoints)} mix points, ${String(e.items)} items; ${e.resumed ? `resumed at step ${String(e.step)}, ` : ''}${String(e.steps)} steps, batch ${String(e.batch)}, ${String(e.processes)} process(es) on ${String(e.device)} (${String(e.precision)})`;
    case 'step':
      return `step ${String(e.step)}/${String(e.steps)}  loss=${fmt(e.loss)}  consistency=${fmt(e.consistency)} dx=${fmt(e.dx)}  |g|=${fmt(e.gradNorm, 3)}  μ mean ${fmt(e.muMean, 3)}  ${typeof e.samplesPerSec === 'number' ? e.samplesPerSec.toFixed(1) : '?'} samples/s`;
    case 'checkpoint':
      return `checkpoint step ${String(e.step)} → ${String(e.path)}`;
    case 'done':
      return `done: ${String(e.step)} steps in ${typeof e.seconds === 'number' ? e.seconds.toFixed(1) : '?'} s`;
    case 'stopped':
      return `stopped at step ${String(e.step)}; resume with --resume --run-dir ${String(e.runDir)}`;
    case 'exported':
      return `exported → ${String(e.out)} (codi import it to run the adapter)`;
    case 'error':
      return `codi train: ${String(e.message)}`;
    default:
      return JSON.stringify(e);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

/** Run the trainer to its end; resolves to its exit code (0 done, 1 refused, 2 diverged, 130 stopped). */
export async function runSdTraining(o: SdTrainOptions, python: string, io: SdTrainIo): Promise<number> {
  for (const [what, dir] of [['--data', o.data], ['--backbone', o.backbone]] as const) {
    if (!existsSync(dir)) {
      io.error(`codi train: ${what} ${dir} does not exist`);
      return 1;
    }
  }
  const processes = o.processes ?? 1;
  if (!Number.isInteger(processes) || processes < 1) {
    io.error(`codi train: --processes must be ≥ 1, got ${processes}`);
    return 1;
  }
  const port = processes > 1 ? await freePort() : 0;
  const args = sdTrainArgs(o);
  const children: ChildProcess[] = [];
  const exits: Promise<number>[] = [];
  let refused = false;
  for (let rank = 0; rank < processes; rank++) {
    const dp = processes > 1 ? { RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(processes), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) } : {};
    const child = spawn(python, args, { env: { ...process.env, PYTHONPATH: TORCH_PACKAGE_DIR, PYTHONUNBUFFERED: '1', ...dp }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let pending = '';
    let stderrTail = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        let e: SdEvent | null = null;
        try {
          const parsed: unknown = JSON.parse(line);
          if (parsed && typeof parsed === 'object' && typeof (parsed as SdEvent).event === 'string') e = parsed as SdEvent;
        } catch {
          // not one of the trainer's JSON lines (a library's print): pass it through
        }
        if (!e) io.log(line);
        else if (e.event === 'error') {
          refused = true;
          io.error(formatSdEvent(e));
        } else io.log(formatSdEvent(e));
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    exits.push(
      new Promise<number>((resolve) => {
        child.once('error', (err) => {
          refused = true; // said here; the 'close' that may follow adds nothing
          io.error(`codi train: could not start ${python}: ${err.message}`);
          resolve(1);
        });
        child.once('close', (code, sig) => {
          const status = code ?? (sig === 'SIGINT' ? 130 : 1);
          // a crash (not a refusal the trainer explained) shows Python's last words, not a silent code
          if (status !== 0 && status !== 130 && !refused) {
            const last = stderrTail.trim().split('\n').slice(-3).join('\n');
            io.error(`codi train: the trainer (rank ${rank}) exited with ${status}${last ? `:\n${last}` : ''}`);
          }
          // a rank that is gone leaves the others waiting in a collective: stop them too
          if (status !== 0) for (const other of children) if (other !== child && other.exitCode === null) other.kill('SIGTERM');
          resolve(status);
        });
      }),
    );
  }
  // Ctrl-C (io.signal) reaches every rank as SIGINT: they finish the step, checkpoint and stop
  let interrupted = false;
  const poll = setInterval(() => {
    if (io.signal?.aborted && !interrupted) {
      interrupted = true;
      for (const c of children) c.kill('SIGINT');
    }
  }, 200);
  try {
    const codes = await Promise.all(exits);
    return codes[0] ?? 1;
  } finally {
    clearInterval(poll);
  }
}
