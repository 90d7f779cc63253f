/**
 * The editing session's autosave, kept by the broker (Electron main or the web server) under
 * the user data folder, so it survives a renderer crash, a server crash and a power cut.
 *
 * Layout: `<dir>/gen-<n>/{image.png, mask.png, session.json}` plus `<dir>/current.json`
 * naming the complete generation. A snapshot is written into a new generation folder (each
 * file atomically), and only then is `current.json` replaced (atomically), so a crash at any
 * point leaves the previous snapshot or the new one, never a mix. session.json carries the
 * sha256 of the two PNGs; a snapshot whose files do not match is not offered.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AutosaveSession } from '../contract/schemas.ts';
import { writeFileAtomic } from '../engine/image-io/atomic-write.ts';

const CURRENT = 'current.json';

interface SessionFile {
  version: 1;
  name: string;
  path: string | null;
  width: number;
  height: number;
  savedAt: number;
  state: string;
  image: { sha256: string; bytes: number };
  mask: { sha256: string; bytes: number } | null;
}

/** Web mode: CODI_USER_DATA/autosave, else ~/.codi-studio/autosave. */
export function defaultAutosaveDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.CODI_USER_DATA || path.join(os.homedir(), '.codi-studio'), 'autosave');
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const enc = new TextEncoder();

export class AutosaveStore {
  /** Writes are serialised: a slow disk never interleaves two snapshots. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {}

  /** Store a snapshot; resolves to the bytes written. */
  write(session: AutosaveSession): Promise<number> {
    const run = this.chain.then(() => this.writeNow(session));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * The last complete snapshot, or null (none, or damaged). Queued behind pending writes and
   * clears: a page reloaded right after the old one cleared its session on close must not read
   * the snapshot that clear is about to remove.
   */
  read(): Promise<AutosaveSession | null> {
    const run = this.chain.then(() => this.readNow());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async readNow(): Promise<AutosaveSession | null> {
    try {
      const cur = JSON.parse(await fs.readFile(path.join(this.dir, CURRENT), 'utf8')) as { gen?: unknown };
      if (typeof cur.gen !== 'string' || !/^gen-[0-9a-z-]+$/.test(cur.gen)) return null;
      const gen = path.join(this.dir, cur.gen);
      const meta = JSON.parse(await fs.readFile(path.join(gen, 'session.json'), 'utf8')) as SessionFile;
      const image = new Uint8Array(await fs.readFile(path.join(gen, 'image.png')));
      if (sha256(image) !== meta.image.sha256) return null;
      let mask: Uint8Array | undefined;
      if (meta.mask) {
        mask = new Uint8Array(await fs.readFile(path.join(gen, 'mask.png')));
        if (sha256(mask) !== meta.mask.sha256) return null;
      }
      return { name: meta.name, path: meta.path, width: meta.width, height: meta.height, savedAt: meta.savedAt, state: meta.state, image, ...(mask ? { mask } : {}) };
    } catch {
      return null;
    }
  }

  /** Forget the snapshot (the user discarded it, or the session ended cleanly). */
  clear(): Promise<boolean> {
    const run = this.chain.then(async () => {
      const had = await fs.rm(path.join(this.dir, CURRENT)).then(
        () => true,
        () => false,
      );
      await this.removeGenerations(null);
      return had;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async writeNow(s: AutosaveSession): Promise<number> {
    await fs.mkdir(this.dir, { recursive: true });
    const genName = `gen-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const gen = path.join(this.dir, genName);
    await fs.mkdir(gen);
    try {
      const meta: SessionFile = {
        version: 1,
        name: s.name,
        path: s.path,
        width: s.width,
        height: s.height,
        savedAt: s.savedAt,
        state: s.state,
        image: { sha256: sha256(s.image), bytes: s.image.byteLength },
        mask: s.mask ? { sha256: sha256(s.mask), bytes: s.mask.byteLength } : null,
      };
      await writeFileAtomic(path.join(gen, 'image.png'), s.image, { overwrite: false });
      if (s.mask) await writeFileAtomic(path.join(gen, 'mask.png'), s.mask, { overwrite: false });
      await writeFileAtomic(path.join(gen, 'session.json'), enc.encode(JSON.stringify(meta)), { overwrite: false });
      await writeFileAtomic(path.join(this.dir, CURRENT), enc.encode(JSON.stringify({ gen: genName })), { overwrite: true });
    } catch (err) {
      await fs.rm(gen, { recursive: true, force: true });
      throw err;
    }
    await this.removeGenerations(genName);
    return s.image.byteLength + (s.mask?.byteLength ?? 0);
  }

  private async removeGenerations(keep: string | null): Promise<void> {
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    for (const e of entries) if (e.startsWith('gen-') && e !== keep) await fs.rm(path.join(this.dir, e), { recursive: true, force: true });
  }
}
