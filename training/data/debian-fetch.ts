/**
 * Builds the local photo library from Debian packages, without installing anything:
 * `apt-get download PKG` (once `apt-get update` if the package is unknown) and `dpkg -x` into a
 * cache folder (default `.cache/debian-photos/`, gitignored). For every image file it records the
 * package, version, licence (from the package's copyright file), sha256 and the keep/reject
 * decision, writes a working copy of each kept photo (long side ≤ 1024 px, PNG) and a
 * `sources.json` index. Re-running reuses downloaded .deb files.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { edjJpegs, rccFiles } from './containers.ts';
import { assertTrainingPackage, assignSplits, decideFile, fileKey, IMAGE_EXTENSIONS, licenceFor, memberFileName, PHOTO_PACKAGES } from './photo-sources.ts';
import type { PhotoPackage } from './photo-sources.ts';
import { photoStats } from './photo-stats.ts';
import type { PhotoStats } from './photo-stats.ts';

export const DEFAULT_PHOTO_CACHE = fileURLToPath(new URL('../../.cache/debian-photos', import.meta.url));
/** 2: photos cut out of containers, content-only flags, upstream licence notes */
export const PHOTO_INDEX_VERSION = 2;

/** Sources record of one kept photograph. */
export interface PhotoRecord {
  /** `package:basename`, unique */
  key: string;
  package: string;
  version: string;
  /** path inside the package; `container#member` for a photo cut out of a container */
  path: string;
  licence: string;
  copyright: string;
  licenceMatchedBy: string;
  note?: string;
  /** the upstream licence statement where it differs from debian/copyright */
  upstreamLicence?: string;
  /** usable as input or content, never as a clean restoration target (docs/data.md §4) */
  contentOnly?: boolean;
  /** sha256 of the original file in the package (of the cut-out member for a container) */
  sha256: string;
  width: number;
  height: number;
  split: 'train' | 'val';
  reason: string;
  /** working copy, relative to the cache folder */
  prepared: string;
  preparedWidth: number;
  preparedHeight: number;
}

/** The library index written to `sources.json`. */
export interface PhotoLibraryIndex {
  version: number;
  valFraction: number;
  maxSide: number;
  packages: { name: string; version: string; debSha256: string; images: number; kept: number }[];
  photos: PhotoRecord[];
  rejected: { key: string; reason: string; stats?: PhotoStats }[];
}

export interface FetchOptions {
  cacheDir?: string;
  packages?: readonly PhotoPackage[];
  valFraction?: number;
  /** long side of the working copies */
  maxSide?: number;
  log?: (line: string) => void;
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...listFiles(p));
    else if (st.isFile()) out.push(p);
  }
  return out.sort();
}

/** One image file of a package: on disk as shipped, or cut out of a container. */
interface Candidate {
  /** file name that keys the photo */
  name: string;
  /** recorded path: inside the package, or `container#member` */
  path: string;
  /** the path matched against debian/copyright (a member's path inside the source tree) */
  licencePath: string;
  /** the bytes on disk */
  abs: string;
}

const isImagePath = (f: string): boolean => [...IMAGE_EXTENSIONS, '.svg', '.svgz'].some((e) => f.toLowerCase().endsWith(e));

/**
 * The image files of an unpacked package under its roots. Container members are written once
 * to `<root>/_members/` (re-used on the next run) so the rest of the pipeline reads plain files.
 */
async function candidatesOf(pkg: PhotoPackage, root: string): Promise<Candidate[]> {
  const files = pkg.roots.flatMap((r) => listFiles(join(root, r))).map((f) => relative(root, f));
  if (!pkg.container) {
    return files
      .filter(isImagePath)
      // scikit-image keeps test fixtures under */tests/*: not data
      .filter((f) => !f.includes('/tests/'))
      .map((f) => ({ name: basename(f), path: f, licencePath: f, abs: join(root, f) }));
  }
  const memberDir = join(root, '_members');
  mkdirSync(memberDir, { recursive: true });
  const out: Candidate[] = [];
  if (pkg.container === 'raw-bz2') {
    const shape = pkg.rawShape;
    if (!shape) throw new Error(`${pkg.name}: a raw-bz2 package needs rawShape`);
    for (const rel of files.filter((f) => pkg.members?.test(f) ?? true)) {
      const raw = execFileSync('bzip2', ['-dc', join(root, rel)], { maxBuffer: 1 << 30 });
      if (raw.length !== shape.width * shape.height * 3) throw new Error(`${rel}: ${raw.length} bytes is not a ${shape.width} × ${shape.height} RGB array`);
      const name = `${basename(rel).replace(/\.[^.]+$/, '')}.png`;
      const png = await sharp(raw, { raw: { width: shape.width, height: shape.height, channels: 3 } }).png().toBuffer();
      out.push({ name, path: `${rel}#${shape.width}x${shape.height}x3`, licencePath: rel, abs: writeMember(memberDir, name, png) });
    }
    return out;
  }
  const ext = pkg.container === 'edj' ? '.edj' : '.rcc';
  for (const rel of files.filter((f) => f.endsWith(ext))) {
    const buf = readFileSync(join(root, rel));
    if (pkg.container === 'edj') {
      const jpegs = edjJpegs(buf);
      if (jpegs.length === 0) continue;
      // the largest stream is the full-size picture; the others are its smaller copies
      const big = jpegs.reduce((a, b) => (b.data.length > a.data.length ? b : a));
      const name = `${basename(rel, '.edj')}.jpg`;
      out.push({ name, path: `${rel}#${big.name}`, licencePath: rel, abs: writeMember(memberDir, name, big.data) });
    } else {
      for (const m of rccFiles(buf)) {
        if (!isImagePath(m.name) || (pkg.members && !pkg.members.test(m.name))) continue;
        const name = memberFileName(rel, m.name);
        out.push({ name, path: `${rel}#${m.name}`, licencePath: m.name, abs: writeMember(memberDir, name, m.data) });
      }
    }
  }
  return out;
}

function writeMember(dir: string, name: string, data: Buffer): string {
  const p = join(dir, name);
  if (!existsSync(p) || statSync(p).size !== data.length) writeFileSync(p, data);
  return p;
}

let aptUpdated = false;

/** Download one package's .deb into `debDir` (reused if present); returns its path. */
function downloadDeb(name: string, debDir: string, log: (s: string) => void): string {
  assertTrainingPackage(name);
  const existing = readdirSync(debDir).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
  if (existing) return join(debDir, existing);
  try {
    execFileSync('apt-get', ['download', name], { cwd: debDir, stdio: 'pipe' });
  } catch (err) {
    if (aptUpdated) throw err;
    log('apt-get download failed; running apt-get update once');
    execFileSync('apt-get', ['update'], { stdio: 'pipe' });
    aptUpdated = true;
    execFileSync('apt-get', ['download', name], { cwd: debDir, stdio: 'pipe' });
  }
  const got = readdirSync(debDir).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
  if (!got) throw new Error(`apt-get download ${name} produced no .deb`);
  return join(debDir, got);
}

async function statsOf(path: string): Promise<PhotoStats | null> {
  try {
    const meta = await sharp(path).metadata();
    const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').resize(256, 256, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
    let rgb: Uint8Array = data;
    if (info.channels !== 3) {
      rgb = new Uint8Array(info.width * info.height * 3);
      for (let i = 0; i < info.width * info.height; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = data[i * info.channels] as number;
    }
    return photoStats(rgb, info.width, info.height, meta.width ?? info.width, meta.height ?? info.height);
  } catch {
    return null;
  }
}

/** Fetch, filter and index the photographs. */
export async function fetchDebianPhotos(options: FetchOptions = {}): Promise<PhotoLibraryIndex> {
  const cacheDir = options.cacheDir ?? DEFAULT_PHOTO_CACHE;
  const packages = options.packages ?? PHOTO_PACKAGES;
  const valFraction = options.valFraction ?? 0.15;
  const maxSide = options.maxSide ?? 1024;
  const log = options.log ?? (() => {});
  for (const p of packages) assertTrainingPackage(p.name);
  const debDir = join(cacheDir, 'debs');
  mkdirSync(debDir, { recursive: true });

  const kept: (Omit<PhotoRecord, 'split' | 'prepared' | 'preparedWidth' | 'preparedHeight'> & { source: string })[] = [];
  const rejected: PhotoLibraryIndex['rejected'] = [];
  const pkgSummary: PhotoLibraryIndex['packages'] = [];
  for (const pkg of packages) {
    const deb = downloadDeb(pkg.name, debDir, log);
    const version = execFileSync('dpkg-deb', ['-f', deb, 'Version'], { encoding: 'utf8' }).trim();
    const root = join(cacheDir, 'extract', pkg.name);
    if (!existsSync(join(root, 'usr'))) {
      mkdirSync(root, { recursive: true });
      execFileSync('dpkg', ['-x', deb, root], { stdio: 'pipe' });
    }
    const copyrightPath = join(root, 'usr/share/doc', pkg.name, 'copyright');
    const copyrightText = existsSync(copyrightPath) ? readFileSync(copyrightPath, 'utf8') : '';
    const files = await candidatesOf(pkg, root);
    const seen = new Set<string>();
    let count = 0;
    for (const file of files) {
      const key = fileKey(pkg.name, file.name);
      if (seen.has(key)) {
        rejected.push({ key: `${key} (${file.path})`, reason: 'duplicate file name in the package (keys must be unique)' });
        continue;
      }
      seen.add(key);
      const isVector = /\.svgz?$/i.test(file.name);
      const stats = isVector ? null : await statsOf(file.abs);
      const decision = decideFile(pkg.name, file.name, stats);
      if (!decision.use || !stats) {
        rejected.push({ key, reason: decision.use ? 'unreadable image' : decision.reason, ...(stats ? { stats } : {}) });
        continue;
      }
      const lic = licenceFor(copyrightText, file.licencePath);
      count++;
      kept.push({
        key,
        package: pkg.name,
        version,
        path: file.path,
        source: file.abs,
        licence: lic.licence,
        copyright: lic.copyright,
        licenceMatchedBy: lic.matchedBy,
        ...(decision.note ? { note: decision.note } : {}),
        ...(pkg.upstreamLicence ? { upstreamLicence: pkg.upstreamLicence } : {}),
        ...(pkg.contentOnly ? { contentOnly: true } : {}),
        sha256: sha256File(file.abs),
        width: stats.width,
        height: stats.height,
        reason: decision.reason,
      });
    }
    pkgSummary.push({ name: pkg.name, version, debSha256: sha256File(deb), images: files.length, kept: count });
    log(`${pkg.name} ${version}: ${count} photos of ${files.length} images`);
  }

  const splits = assignSplits(kept.map((k) => k.key), valFraction);
  const photos: PhotoRecord[] = [];
  for (const { source, ...k } of kept) {
    const prepared = join('photos', k.package, `${(k.key.split(':').pop() ?? k.key).replace(/\.[^.]+$/, '')}.png`);
    const outPath = join(cacheDir, prepared);
    mkdirSync(join(cacheDir, 'photos', k.package), { recursive: true });
    const info = await sharp(source)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .png({ compressionLevel: 6 })
      .toFile(outPath);
    photos.push({ ...k, split: splits.get(k.key) ?? 'train', prepared, preparedWidth: info.width, preparedHeight: info.height });
  }
  const index: PhotoLibraryIndex = { version: PHOTO_INDEX_VERSION, valFraction, maxSide, packages: pkgSummary, photos, rejected };
  writeFileSync(join(cacheDir, 'sources.json'), `${JSON.stringify(index, null, 2)}\n`);
  return index;
}

/** Read `sources.json` of a cache folder, or null when the library has not been built. */
export function loadPhotoLibrary(cacheDir: string = DEFAULT_PHOTO_CACHE): PhotoLibraryIndex | null {
  const p = join(cacheDir, 'sources.json');
  if (!existsSync(p)) return null;
  const index = JSON.parse(readFileSync(p, 'utf8')) as PhotoLibraryIndex;
  if (index.version !== PHOTO_INDEX_VERSION) return null;
  for (const photo of index.photos) assertTrainingPackage(photo.package);
  return index;
}

/** Load the library, fetching it first when missing. */
export async function ensurePhotoLibrary(cacheDir: string = DEFAULT_PHOTO_CACHE, log?: (s: string) => void): Promise<PhotoLibraryIndex> {
  return loadPhotoLibrary(cacheDir) ?? (await fetchDebianPhotos({ cacheDir, ...(log ? { log } : {}) }));
}
