/**
 * The engine as the renderer reaches it: EngineHost (the broker) over a forked engine process,
 * the same request → job events → getImagePixels path the UI uses. The engine's pid is kept so
 * its resident memory can be read from /proc.
 */
import sharp from 'sharp';
import { EngineHost } from '../../electron/broker/engine-host.ts';
import type { EngineProcess } from '../../electron/broker/engine-host.ts';
import { forkEngine } from '../../electron/broker/fork.ts';
import type { CodiEvent, ImagePixels, JobDone, RunToolRequest } from '../../electron/contract/schemas.ts';

export interface BenchEngine {
  pid(): number | undefined;
  openPng(png: Uint8Array, name: string): Promise<{ imageId: string; width: number; height: number }>;
  /** Submit a job and wait for its end; throws on failure. */
  runJob(req: RunToolRequest): Promise<JobDone>;
  pixels(imageId: string): Promise<ImagePixels>;
  release(imageId: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchEngine(packsDir: string, threads: number, userDir: string, env?: Readonly<Record<string, string>>): Promise<BenchEngine> {
  const spawn = forkEngine({ packDirs: [{ path: packsDir, source: 'bundled' }, { path: userDir, source: 'user' }], providers: ['cpu'], threads }, env ? { env } : {});
  let proc: EngineProcess | null = null;
  const host = new EngineHost({
    spawn: () => (proc = spawn()),
    // a 12-megapixel restore runs for minutes; only a hung engine should trip the watchdog
    stallTimeoutMs: 600_000,
    requestTimeoutMs: 600_000,
  });
  await host.start();
  const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };
  return {
    pid: () => proc?.pid,
    async openPng(png, name) {
      const v = unwrap(await host.request('openImage', { source: 'bytes', bytes: png, name }));
      return { imageId: v.imageId, width: v.width, height: v.height };
    },
    runJob(req) {
      return new Promise<JobDone>((resolve, reject) => {
        let jobId: string | null = null;
        const early: CodiEvent[] = [];
        const handle = (e: CodiEvent): void => {
          if (!jobId) {
            early.push(e);
            return;
          }
          if (e.type === 'job-done' && e.done.jobId === jobId) {
            off();
            resolve(e.done);
          } else if (e.type === 'job-failed' && e.failed.jobId === jobId) {
            off();
            reject(new Error(`job failed: ${e.failed.message}`));
          }
        };
        const off = host.onEvent(handle);
        void host.request('runTool', req).then((r) => {
          if (!r.ok) {
            off();
            reject(new Error(r.error.message));
            return;
          }
          jobId = r.value.jobId;
          for (const e of early.splice(0)) handle(e);
        }, reject);
      });
    },
    async pixels(imageId) {
      return unwrap(await host.request('getImagePixels', { imageId }));
    },
    async release(imageId) {
      unwrap(await host.request('releaseImage', { imageId }));
    },
    stop: () => host.stop(),
  };
}

/** A deterministic, photo-like PNG (smooth gradients plus seeded texture), for engine inputs. */
export async function syntheticPng(width: number, height: number, seed: number): Promise<Uint8Array> {
  const px = new Uint8Array(width * height * 3);
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const u = x / width;
      const v = y / height;
      const tex = (rnd() - 0.5) * 24 + 18 * Math.sin(x / 7 + 3 * Math.sin(y / 23));
      px[i] = clamp(60 + 150 * u + tex);
      px[i + 1] = clamp(90 + 100 * v + tex);
      px[i + 2] = clamp(170 - 80 * u * v + tex);
    }
  }
  return new Uint8Array(await sharp(px, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer());
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
