/**
 * A pack as one file (`.codi-adapter`) for sharing personal adapters:
 *   "CODIADPT" (8 bytes) · u32 LE index length · index JSON · file bytes, in index order
 * The index lists every file with its size and sha256. Import checks the magic, the sizes and
 * hashes, that the manifest parses and that its own sha256 entries match, refuses paths that
 * leave the pack folder, and stages in a dot-folder the registry ignores before renaming.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { packRelativePath, parseManifest } from '../../core/packs/manifest.ts';

const MAGIC = Buffer.from('CODIADPT', 'ascii');
export const ADAPTER_FILE_EXT = '.codi-adapter';
/** Refuse absurd containers before reading them whole. */
const MAX_BYTES = 512 * 1024 * 1024;

interface IndexEntry {
  path: string;
  bytes: number;
  sha256: string;
}
interface ContainerIndex {
  format: 1;
  pack: string;
  files: IndexEntry[];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Write the pack folder `packDir` as one container file at `outFile`; returns its size. */
export async function exportAdapterFile(packDir: string, outFile: string): Promise<number> {
  const manifest = parseManifest(await readFile(path.join(packDir, 'manifest.json'), 'utf8'));
  const names = ['manifest.json', ...manifest.files.map((f) => f.path)];
  if (existsSync(path.join(packDir, 'MODEL_CARD.md'))) names.push('MODEL_CARD.md');
  const blobs: Buffer[] = [];
  const files: IndexEntry[] = [];
  for (const n of [...new Set(names)]) {
    const b = await readFile(path.join(packDir, n));
    blobs.push(b);
    files.push({ path: n, bytes: b.length, sha256: sha256(b) });
  }
  const index = Buffer.from(JSON.stringify({ format: 1, pack: manifest.name, files } satisfies ContainerIndex), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(index.length);
  const all = Buffer.concat([MAGIC, len, index, ...blobs]);
  const tmp = `${outFile}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, all);
  await rename(tmp, outFile);
  return all.length;
}

/** Verify a container and unpack it into `packsDir/<pack name>`; returns the pack name. */
export async function importAdapterFile(file: string, packsDir: string, opts: { overwrite?: boolean } = {}): Promise<string> {
  const size = (await stat(file)).size;
  if (size > MAX_BYTES) throw new Error(`${path.basename(file)} is ${size} bytes, more than an adapter file may be`);
  const buf = await readFile(file);
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) throw new Error(`${path.basename(file)} is not a CoDi adapter file`);
  const ilen = buf.readUInt32LE(8);
  if (12 + ilen > buf.length) throw new Error('adapter file is truncated (index)');
  let index: ContainerIndex;
  try {
    index = JSON.parse(buf.subarray(12, 12 + ilen).toString('utf8')) as ContainerIndex;
  } catch {
    throw new Error('adapter file index is not valid JSON');
  }
  if (index.format !== 1 || !Array.isArray(index.files)) throw new Error('unsupported adapter file format');
  let off = 12 + ilen;
  const contents = new Map<string, Buffer>();
  for (const f of index.files) {
    if (!packRelativePath.safeParse(f.path).success || f.path.includes('/')) throw new Error(`adapter file names an unsafe path "${String(f.path)}"`);
    if (!Number.isInteger(f.bytes) || f.bytes < 0 || off + f.bytes > buf.length) throw new Error(`adapter file is truncated (${f.path})`);
    const b = buf.subarray(off, off + f.bytes);
    off += f.bytes;
    if (sha256(b) !== f.sha256) throw new Error(`adapter file is corrupt: ${f.path} does not match its sha256`);
    if (contents.has(f.path)) throw new Error(`adapter file lists ${f.path} twice`);
    contents.set(f.path, b);
  }
  if (off !== buf.length) throw new Error('adapter file has trailing bytes');
  const mbytes = contents.get('manifest.json');
  if (!mbytes) throw new Error('adapter file has no manifest.json');
  const manifest = parseManifest(mbytes.toString('utf8'));
  for (const f of manifest.files) {
    const b = contents.get(f.path);
    if (!b) throw new Error(`adapter file lacks ${f.path}, which its manifest lists`);
    if (b.length !== f.bytes || sha256(b) !== f.sha256) throw new Error(`${f.path} does not match the manifest's size/sha256`);
  }
  const dest = path.join(packsDir, manifest.name);
  if (existsSync(dest) && !opts.overwrite) throw new Error(`a pack named "${manifest.name}" is already installed`);
  await mkdir(packsDir, { recursive: true });
  const staging = path.join(packsDir, `.${manifest.name}.importing-${randomBytes(4).toString('hex')}`);
  await mkdir(staging);
  try {
    for (const [n, b] of contents) await writeFile(path.join(staging, n), b);
    await rm(dest, { recursive: true, force: true });
    await rename(staging, dest);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return manifest.name;
}

/** Names of the folders in `packsDir` (for tests and listings). */
export async function listPackFolders(packsDir: string): Promise<string[]> {
  return (await readdir(packsDir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}
