/**
 * Pack file checks that run BEFORE ONNX Runtime sees a byte: containment (no path, symlink or
 * hard link leading out of the pack), exact byte size, and sha256 of the very bytes that are
 * then handed to ORT (read once into memory, so nothing can be swapped between check and load).
 */
import { createHash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { PackFile, TensorSignature } from '../../../core/packs/manifest.ts';
import { bufferSource, elemTypeName, scanOnnx } from '../diffusers/onnx-wire.ts';
import type { OnnxScan, WireValueInfo } from '../diffusers/onnx-wire.ts';

/** A pack problem worth showing to the user as is. */
export class PackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackError';
  }
}

/**
 * Resolve a manifest-relative path to an absolute path inside `packRoot` (already a realpath).
 * Refuses anything that escapes the root lexically, through a symlink anywhere on the way,
 * or that is not a regular file with a single link.
 */
export async function resolveInsidePack(packRoot: string, rel: string): Promise<string> {
  if (rel.includes('\0') || rel.includes('\\') || path.isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) {
    throw new PackError(`"${rel}" is not a relative path inside the pack`);
  }
  const candidate = path.resolve(packRoot, rel);
  if (!isInside(packRoot, candidate)) throw new PackError(`"${rel}" points outside the pack`);
  let st;
  try {
    st = await fs.lstat(candidate);
  } catch {
    throw new PackError(`"${rel}" is missing from the pack`);
  }
  if (st.isSymbolicLink()) throw new PackError(`"${rel}" is a symbolic link; packs must contain real files`);
  const real = await fs.realpath(candidate);
  // realpath differing from the lexical path means a symlinked directory on the way.
  if (real !== candidate || !isInside(packRoot, real)) {
    throw new PackError(`"${rel}" resolves outside the pack through a symbolic link`);
  }
  if (!st.isFile()) throw new PackError(`"${rel}" is not a regular file`);
  if (st.nlink > 1) throw new PackError(`"${rel}" is a hard link (${st.nlink} links); packs must contain their own files`);
  return real;
}

export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Cheap check (listing): every file exists inside the pack with the manifest's byte size. */
export async function checkSizes(packRoot: string, files: readonly PackFile[]): Promise<void> {
  for (const f of files) {
    const abs = await resolveInsidePack(packRoot, f.path);
    const st = await fs.stat(abs);
    if (st.size !== f.bytes) {
      throw new PackError(
        `"${f.path}" has ${st.size} bytes but the manifest says ${f.bytes} (truncated or replaced file)`,
      );
    }
  }
}

const READ_CHUNK = 256 * 1024 * 1024;

/** Read a pack file once, checking size and sha256 of exactly the bytes returned. */
export async function readVerified(packRoot: string, file: PackFile): Promise<Uint8Array> {
  const abs = await resolveInsidePack(packRoot, file.path);
  const handle = await fs.open(abs, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const st = await handle.stat();
    if (st.size !== file.bytes) {
      throw new PackError(`"${file.path}" has ${st.size} bytes but the manifest says ${file.bytes} (truncated or replaced file)`);
    }
    const buf = Buffer.allocUnsafe(st.size);
    const hash = createHash('sha256');
    let at = 0;
    while (at < buf.length) {
      // One read is capped below 2 GiB (fs.read's limit); files up to 4 GiB arrive in chunks.
      const { bytesRead } = await handle.read(buf, at, Math.min(buf.length - at, READ_CHUNK), at);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(at, at + bytesRead));
      at += bytesRead;
    }
    if (at !== file.bytes) throw new PackError(`"${file.path}" changed while it was being read`);
    const digest = hash.digest('hex');
    if (digest !== file.sha256) {
      throw new PackError(`"${file.path}" failed its checksum (sha256 ${digest.slice(0, 12)}…, manifest ${file.sha256.slice(0, 12)}…): the file is corrupt or was modified`);
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } finally {
    await handle.close();
  }
}

/** The session's input/output names must be exactly the manifest's (order-insensitive). */
export function checkSessionIO(
  file: PackFile,
  session: { inputNames: readonly string[]; outputNames: readonly string[] },
): void {
  const check = (kind: string, expected: readonly TensorSignature[] | undefined, actual: readonly string[]) => {
    if (!expected) throw new PackError(`"${file.path}": the manifest lists no ${kind} for an ONNX file`);
    const want = [...expected.map((s) => s.name)].sort();
    const got = [...actual].sort();
    if (want.length !== got.length || want.some((n, i) => n !== got[i])) {
      throw new PackError(`"${file.path}": graph ${kind} [${got.join(', ')}] do not match the manifest [${want.join(', ')}]`);
    }
  };
  check('inputs', file.inputs, session.inputNames);
  check('outputs', file.outputs, session.outputNames);
}

/**
 * Look inside a verified ONNX file before ORT parses it (wire level, weights skipped):
 * - external-data references: native packs hand ORT the graph as bytes with no external files,
 *   so ORT would resolve a `location` on its own (relative to the process, or absolute). Any
 *   reference is refused; one that points outside the pack is named as an escape.
 * - the declared inputs/outputs must match the manifest (names, dtype, rank, fixed dims), and
 *   the engine feeds float32 only, so every input and output must be float32.
 */
export function checkGraphBytes(file: PackFile, bytes: Uint8Array): void {
  let scan: OnnxScan;
  try {
    scan = scanOnnx(bufferSource(bytes));
  } catch (err) {
    throw new PackError(`"${file.path}" is not a valid ONNX graph (${(err as Error).message})`);
  }
  for (const ref of scan.external) {
    const loc = ref.location;
    const escapes = loc.includes('\0') || loc.includes('\\') || path.isAbsolute(loc) || /^[A-Za-z]:/.test(loc) || path.posix.normalize(loc).startsWith('..');
    if (escapes) throw new PackError(`"${file.path}": tensor "${ref.tensor}" names external data "${loc}", which escapes the pack`);
    throw new PackError(`"${file.path}": tensor "${ref.tensor}" keeps its weights in an external file ("${loc}"); native packs must embed their weights in the graph`);
  }
  const compare = (kind: 'input' | 'output', declared: readonly WireValueInfo[], expected: readonly TensorSignature[] | undefined) => {
    if (!expected) throw new PackError(`"${file.path}": the manifest lists no ${kind}s for an ONNX file`);
    for (const want of expected) {
      const got = declared.find((d) => d.name === want.name);
      if (!got) throw new PackError(`"${file.path}": the graph has no ${kind} "${want.name}" (it has ${declared.map((d) => d.name).join(', ') || 'none'})`);
      const dtype = elemTypeName(got.elemType);
      if (dtype !== want.dtype) throw new PackError(`"${file.path}": ${kind} "${want.name}" is ${dtype} in the graph but ${want.dtype} in the manifest`);
      if (dtype !== 'float32') throw new PackError(`"${file.path}": ${kind} "${want.name}" is ${dtype}; this engine feeds and reads float32 tensors only`);
      if (got.shape.length !== want.shape.length) {
        throw new PackError(`"${file.path}": ${kind} "${want.name}" has rank ${got.shape.length} in the graph but ${want.shape.length} in the manifest`);
      }
      got.shape.forEach((d, i) => {
        const w = want.shape[i];
        if (typeof d === 'number' && typeof w === 'number' && d !== w) {
          throw new PackError(`"${file.path}": ${kind} "${want.name}" has shape [${got.shape.join(', ')}] in the graph but [${want.shape.join(', ')}] in the manifest`);
        }
      });
    }
  };
  compare('input', scan.inputs, file.inputs);
  compare('output', scan.outputs, file.outputs);
}
