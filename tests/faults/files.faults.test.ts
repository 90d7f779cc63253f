/**
 * Saving when the disk says no, on real file systems: a tiny tmpfs that fills up (ENOSPC) and
 * the same tmpfs remounted read-only (EROFS), through the forked engine's saveImage. The save
 * fails with a message for people, the earlier output and the original stay byte-identical,
 * and no temp file is left behind. Needs mount (root); otherwise skipped with the reason (the
 * injected-failure unit tests in electron/engine/image-io/atomic-write.test.ts still run).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EngineHost } from '../../electron/broker/engine-host.ts';
import { forkEngine } from '../../electron/broker/fork.ts';
import { OriginalsLedger } from './harness.ts';

let tmp: string;
let mnt: string;
let mounted = false;
let host: EngineHost;
let trashHome: string;
let savedXdg: string | undefined;
const ledger = new OriginalsLedger();

function tryMount(dir: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err).trim() || 'mount failed';
  }
}

const whyNoMount = await (async () => {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'tmpfs mounts need root';
  return null;
})();

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'codi-faults-files-'));
  mnt = path.join(tmp, 'small-disk');
  await import('node:fs/promises').then((fs) => fs.mkdir(mnt));
  if (!whyNoMount) mounted = tryMount(mnt) === null;
  // The engine keeps a replaced original in the desktop trash: a private one for this test.
  trashHome = path.join(tmp, 'xdg-data');
  savedXdg = process.env.XDG_DATA_HOME;
  process.env.XDG_DATA_HOME = trashHome;
  host = new EngineHost({ spawn: forkEngine({ packDirs: [], providers: ['cpu'], threads: 1 }) });
  await host.start();
});
afterAll(async () => {
  let changed: string[] = [];
  try {
    await host?.stop();
    if (savedXdg === undefined) delete process.env.XDG_DATA_HOME;
    else process.env.XDG_DATA_HOME = savedXdg;
    changed = await ledger.changed();
  } finally {
    // Never leave the tiny disk mounted (a lazy unmount if something still holds it).
    if (mounted) {
      try {
        execFileSync('umount', [mnt], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
      }
    }
    await rm(tmp, { recursive: true, force: true });
  }
  expect(changed).toEqual([]);
});

/** Random pixels: PNG cannot compress them, so the file size is predictable (~3 bytes/pixel). */
async function noiseOriginal(name: string, side: number): Promise<string> {
  const raw = Buffer.alloc(side * side * 3);
  let x = 0x9e3779b9;
  for (let i = 0; i < raw.length; i++) {
    // xorshift32: no structure a PNG filter could predict.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 255;
  }
  const p = path.join(tmp, name);
  await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png().toFile(p);
  await ledger.add(p);
  return p;
}

async function openPath(p: string): Promise<string> {
  const r = await host.request('openImage', { source: 'path', path: p });
  if (!r.ok) throw new Error(r.error.message);
  return r.value.imageId;
}

describe.skipIf(whyNoMount !== null)(`faults: files (${whyNoMount ?? 'tmpfs'})`, () => {
  it('disk-full-on-save: ENOSPC fails cleanly; the earlier output, the original and the folder are intact', async () => {
    expect(mounted).toBe(true);
    const small = await openPath(await noiseOriginal('small.png', 64));
    const big = await openPath(await noiseOriginal('big.png', 256)); // ~200 KB PNG
    const earlier = path.join(mnt, 'out.png');
    const first = await host.request('saveImage', { imageId: small, path: earlier, format: 'png' });
    expect(first.ok).toBe(true);
    // Fill the disk but 16 KiB, so the big image cannot fit.
    const st = await statfs(mnt);
    await writeFile(path.join(mnt, 'filler.bin'), Buffer.alloc(Math.max(0, st.bavail * st.bsize - 16 * 1024)));
    await ledger.add(earlier, path.join(mnt, 'filler.bin'));
    const replace = await host.request('saveImage', { imageId: big, path: earlier, format: 'png', overwrite: true });
    expect(replace.ok).toBe(false);
    if (!replace.ok) {
      expect(replace.error.code).toBe('io');
      expect(replace.error.message).toMatch(/disk is full|no space/i);
    }
    const fresh = await host.request('saveImage', { imageId: big, path: path.join(mnt, 'new.png'), format: 'png' });
    expect(!fresh.ok && fresh.error.code).toBe('io');
    expect((await readdir(mnt)).sort()).toEqual(['filler.bin', 'out.png']);
  });

  it('read-only-folder: EROFS fails cleanly with nothing written', async () => {
    expect(mounted).toBe(true);
    const img = await openPath(await noiseOriginal('ro.png', 16));
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      const before = (await readdir(mnt)).sort();
      for (const target of [path.join(mnt, 'out.png'), path.join(mnt, 'other.png')]) {
        const r = await host.request('saveImage', { imageId: img, path: target, format: 'png', overwrite: true });
        expect(r.ok, target).toBe(false);
        if (!r.ok) {
          expect(r.error.code).toBe('io');
          expect(r.error.message).toMatch(/read-only|permission|not allowed|cannot write/i);
        }
      }
      expect((await readdir(mnt)).sort()).toEqual(before);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
  });

  it('never-over-the-original: refused without overwrite, and with it until replacing the original is confirmed on its own; then its bytes are in the trash', async () => {
    const p = await noiseOriginal('source.png', 16);
    const img = await openPath(p);
    const r = await host.request('saveImage', { imageId: img, path: p, format: 'png' });
    expect(!r.ok && r.error.code).toBe('exists');
    const r2 = await host.request('saveImage', { imageId: img, path: p, format: 'png', overwrite: true });
    expect(!r2.ok && r2.error.code).toBe('is-original');
    // The same file opened as bytes (the browser's file picker): the engine finds it by content.
    const picked = await host.request('openImage', { source: 'bytes', bytes: new Uint8Array(await readFile(p)), name: 'source.png' });
    if (!picked.ok) throw new Error(picked.error.message);
    const r3 = await host.request('saveImage', { imageId: picked.value.imageId, path: p, format: 'png', overwrite: true });
    expect(!r3.ok && r3.error.code).toBe('is-original');

    // Confirmed: replaced, and the old bytes are where the user can get them back. (A copy of
    // the file, outside the ledger: this one is meant to change.)
    const q = path.join(tmp, 'replace-me.png');
    await copyFile(p, q);
    const before = await readFile(q);
    const mine = await openPath(q);
    const done = await host.request('saveImage', { imageId: mine, path: q, format: 'jpeg', overwrite: true, replaceOriginal: true });
    if (!done.ok) throw new Error(done.error.message);
    expect(done.value.keptOriginal).toEqual({ place: 'trash', path: path.join(trashHome, 'Trash', 'files', 'replace-me.png') });
    expect((await readFile(done.value.keptOriginal!.path)).equals(before)).toBe(true);
    expect((await readFile(q)).equals(before)).toBe(false);
  });
});
