/**
 * The held-out evaluation set: photographs from the Debian packages opencv-doc and
 * plasma-workspace-wallpapers, which are reserved for independent evaluation (never training or
 * tuning). `apt-get download` + `dpkg -x` into .cache/eval-photos/ (gitignored); the files in the
 * explicit allow list (heldout-sources.ts) that also pass a size check are kept; each is scaled
 * so that its short side is at most `maxShortSide` (Lanczos, as large wallpapers would otherwise
 * give 256-px crops of nearly flat sky) and cut into deterministic 256 × 256 crops (centre first,
 * then fixed grid positions). Each crop gets low-resolution inputs at ×2 and ×4 from the project's
 * degradation pipeline (training/data/degrade.ts, StableSR test-set preset, seeded by the crop id),
 * or from plain bicubic downsampling when asked. Every photo records its package, version, path,
 * sha256 and licence; every LR input records the degradation steps drawn.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Rng } from '../../core/rng.ts';
import { degrade, STABLESR_PRESET } from '../../training/data/degrade.ts';
import type { PlanarImage } from '../../training/data/image.ts';
import { cropImage, fromInterleavedU8, readRgb, writePng } from '../../training/data/image.ts';
import { parseDep5 } from '../../training/data/photo-sources.ts';
import { resize } from '../../training/data/resample.ts';
import { candidateKey, dep5Matches, EVAL_ALLOW_LIST, EVAL_PACKAGES } from './heldout-sources.ts';
import type { EvalPackage } from './heldout-sources.ts';

export const DEFAULT_EVAL_CACHE = fileURLToPath(new URL('../../.cache/eval-photos', import.meta.url));
const INDEX_VERSION = 1;

/** How the LR inputs are made. */
export type DegradationKind = 'realworld' | 'bicubic';

/** Degrade a clean HR image (values in [0, 1]) to 1/scale size; the adapter point for the pipeline. */
export type Degrader = (hr: PlanarImage, scale: number, seed: string) => Promise<{ lr: PlanarImage; steps: string[] }>;

/** The project's real-world degradation (Real-ESRGAN two-stage model, StableSR test preset). */
export const realWorldDegrader: Degrader = async (hr, scale, seed) => {
  const { lr, log } = await degrade(hr, new Rng(seed), scale, STABLESR_PRESET);
  return { lr, steps: [`preset ${log.preset}`, ...log.steps] };
};

/** Clean bicubic (antialiased) downsampling, the classic synthetic SR setting. */
export const bicubicDegrader: Degrader = async (hr, scale) => {
  const lr = resize(hr, Math.round(hr.width / scale), Math.round(hr.height / scale), 'bicubic');
  return { lr, steps: ['bicubic downsample (antialiased), 8-bit'] };
};

export const DEGRADERS: Readonly<Record<DegradationKind, Degrader>> = { realworld: realWorldDegrader, bicubic: bicubicDegrader };

/** Sources record of one held-out photograph. */
export interface HeldoutPhoto {
  key: string;
  package: string;
  version: string;
  /** path inside the package */
  path: string;
  sha256: string;
  width: number;
  height: number;
  licence: string;
  copyright: string;
  /** where the licence came from */
  licenceSource: string;
  /** author and licence stated next to the file (plasma wallpapers' metadata.json) */
  upstreamNote?: string;
  why: string;
}

/** One HR crop and its LR inputs. */
export interface EvalCrop {
  id: string;
  photo: string;
  /** crop box in the prepared (scaled) photo */
  box: { left: number; top: number; size: number; prepScale: number };
  /** relative to the cache folder */
  hr: string;
  lr: Record<string, { path: string; steps: string[] }>;
}

/** The index written to eval-set-<degradation>.json. */
export interface EvalSet {
  version: number;
  degradation: DegradationKind;
  cropSize: number;
  cropsPerPhoto: number;
  maxShortSide: number;
  scales: number[];
  packages: { name: string; version: string; debSha256: string }[];
  photos: HeldoutPhoto[];
  crops: EvalCrop[];
  rejected: { key: string; reason: string }[];
}

export interface HeldoutOptions {
  cacheDir?: string;
  degradation?: DegradationKind;
  cropSize?: number;
  cropsPerPhoto?: number;
  maxShortSide?: number;
  scales?: readonly number[];
  /** Custom degradation (overrides `degradation`'s function, keeps its name in the index). */
  degrader?: Degrader;
  log?: (line: string) => void;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...listFiles(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

let aptUpdated = false;

/** Download (once) and unpack (once) one package; returns its root and version. */
export function fetchEvalPackage(pkg: EvalPackage, cacheDir: string, log: (s: string) => void): { root: string; version: string; debSha256: string } {
  const debDir = path.join(cacheDir, 'debs');
  mkdirSync(debDir, { recursive: true });
  const find = (): string | undefined => readdirSync(debDir).find((f) => f.startsWith(`${pkg.name}_`) && f.endsWith('.deb'));
  if (!find()) {
    log(`apt-get download ${pkg.name}`);
    try {
      execFileSync('apt-get', ['download', pkg.name], { cwd: debDir, stdio: 'pipe' });
    } catch (err) {
      if (aptUpdated) throw err;
      log('apt-get download failed; running apt-get update once');
      execFileSync('apt-get', ['update'], { stdio: 'pipe' });
      aptUpdated = true;
      execFileSync('apt-get', ['download', pkg.name], { cwd: debDir, stdio: 'pipe' });
    }
  }
  const deb = find();
  if (!deb) throw new Error(`apt-get download ${pkg.name} produced no .deb`);
  const debPath = path.join(debDir, deb);
  const root = path.join(cacheDir, 'extract', pkg.name);
  if (!existsSync(path.join(root, 'usr'))) {
    mkdirSync(root, { recursive: true });
    execFileSync('dpkg', ['-x', debPath, root], { stdio: 'pipe' });
  }
  const version = execFileSync('dpkg-deb', ['-f', debPath, 'Version'], { encoding: 'utf8' }).trim();
  return { root, version, debSha256: sha256(readFileSync(debPath)) };
}

/** Candidate image files of a package: path inside its root → absolute path (plasma: largest image per wallpaper). */
function candidates(pkg: EvalPackage, root: string): Map<string, string> {
  const base = path.join(root, pkg.root);
  const files = listFiles(base).filter((f) => /\.(jpe?g|png|webp|tiff?)$/i.test(f));
  const out = new Map<string, string>();
  if (pkg.name === 'plasma-workspace-wallpapers') {
    const best = new Map<string, { file: string; px: number }>();
    for (const f of files) {
      const rel = path.relative(base, f);
      const m = /^([^/]+)\/contents\/images\/(\d+)x(\d+)\./.exec(rel);
      if (!m) continue;
      const px = Number(m[2]) * Number(m[3]);
      const cur = best.get(m[1] as string);
      if (!cur || px > cur.px) best.set(m[1] as string, { file: f, px });
    }
    for (const { file } of best.values()) out.set(path.relative(base, file), file);
  } else {
    for (const f of files) out.set(path.relative(base, f), f);
  }
  return out;
}

function licenceOf(pkg: EvalPackage, root: string, installed: string): { licence: string; copyright: string; source: string; note?: string } {
  const copyrightPath = path.join(root, 'usr/share/doc', pkg.name, 'copyright');
  const text = existsSync(copyrightPath) ? readFileSync(copyrightPath, 'utf8') : '';
  const upstream = pkg.upstreamPath(installed);
  let hit: { licence: string; copyright: string; source: string } = { licence: 'unknown (see package copyright file)', copyright: '', source: 'none' };
  // DEP-5: the last matching paragraph wins
  for (const p of parseDep5(text)) {
    const pattern = p.files.find((f) => dep5Matches(f, upstream));
    if (pattern) hit = { licence: p.license, copyright: p.copyright, source: `debian/copyright Files: ${pattern} (upstream path ${upstream})` };
  }
  let note: string | undefined;
  if (pkg.name === 'plasma-workspace-wallpapers') {
    const folder = installed.replace(/^usr\/share\/wallpapers\//, '').split('/')[0] ?? '';
    const metaPath = path.join(root, pkg.root, folder, 'metadata.json');
    if (existsSync(metaPath)) {
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { KPlugin?: { Authors?: { Name?: string; Email?: string }[]; License?: string } };
      const authors = (meta.KPlugin?.Authors ?? []).map((a) => a.Name).filter(Boolean).join(', ');
      note = `metadata.json: author ${authors || '?'}, licence ${meta.KPlugin?.License ?? '?'}`;
    }
  }
  return { ...hit, ...(note ? { note } : {}) };
}

/** Crop positions (left, top) for a w × h image: centre first, then fixed grid points. */
export function cropPositions(w: number, h: number, size: number, count: number): { left: number; top: number }[] {
  const fx = [0.5, 0.2, 0.8, 0.8, 0.2];
  const fy = [0.5, 0.2, 0.8, 0.2, 0.8];
  const out: { left: number; top: number }[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < fx.length && out.length < count; i++) {
    const left = Math.round(((fx[i] as number) * (w - size)));
    const top = Math.round(((fy[i] as number) * (h - size)));
    const k = `${left},${top}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ left, top });
  }
  return out;
}

function indexPath(cacheDir: string, degradation: DegradationKind): string {
  return path.join(cacheDir, `eval-set-${degradation}.json`);
}

/** Read an existing index when it was built with the same settings. */
export function loadHeldoutSet(cacheDir: string = DEFAULT_EVAL_CACHE, degradation: DegradationKind = 'realworld'): EvalSet | null {
  const p = indexPath(cacheDir, degradation);
  if (!existsSync(p)) return null;
  const set = JSON.parse(readFileSync(p, 'utf8')) as EvalSet;
  return set.version === INDEX_VERSION ? set : null;
}

/** Build (or reuse) the held-out set. */
export async function ensureHeldoutSet(options: HeldoutOptions = {}): Promise<EvalSet> {
  const cacheDir = options.cacheDir ?? DEFAULT_EVAL_CACHE;
  const degradation = options.degradation ?? 'realworld';
  const cropSize = options.cropSize ?? 256;
  const cropsPerPhoto = options.cropsPerPhoto ?? 1;
  const maxShortSide = options.maxShortSide ?? 768;
  const scales = [...(options.scales ?? [2, 4])].sort((a, b) => a - b);
  const log = options.log ?? (() => {});
  const existing = loadHeldoutSet(cacheDir, degradation);
  if (
    existing &&
    existing.cropSize === cropSize &&
    existing.cropsPerPhoto === cropsPerPhoto &&
    existing.maxShortSide === maxShortSide &&
    existing.scales.join() === scales.join() &&
    existing.crops.every((c) => existsSync(path.join(cacheDir, c.hr)))
  ) {
    return existing;
  }
  const degrader = options.degrader ?? DEGRADERS[degradation];
  const photos: HeldoutPhoto[] = [];
  const crops: EvalCrop[] = [];
  const rejected: EvalSet['rejected'] = [];
  const packages: EvalSet['packages'] = [];
  for (const pkg of EVAL_PACKAGES) {
    const { root, version, debSha256 } = fetchEvalPackage(pkg, cacheDir, log);
    packages.push({ name: pkg.name, version, debSha256 });
    for (const [rel, abs] of candidates(pkg, root)) {
      const key = candidateKey(pkg.name, rel);
      const why = EVAL_ALLOW_LIST[key];
      if (why === undefined) {
        rejected.push({ key, reason: 'not in the allow list (not a photograph, a near-duplicate, or reviewed and left out)' });
        continue;
      }
      const bytes = readFileSync(abs);
      const meta = await sharp(bytes).metadata();
      const w0 = meta.width ?? 0;
      const h0 = meta.height ?? 0;
      if (Math.min(w0, h0) < cropSize) {
        rejected.push({ key, reason: `short side ${Math.min(w0, h0)} < crop ${cropSize}` });
        continue;
      }
      const installed = path.join(pkg.root, rel).split(path.sep).join('/');
      const lic = licenceOf(pkg, root, installed);
      photos.push({
        key,
        package: pkg.name,
        version,
        path: installed,
        sha256: sha256(bytes),
        width: w0,
        height: h0,
        licence: lic.licence,
        copyright: lic.copyright,
        licenceSource: lic.source,
        ...(lic.note ? { upstreamNote: lic.note } : {}),
        why,
      });
      const prepScale = Math.min(1, maxShortSide / Math.min(w0, h0));
      const w = Math.max(cropSize, Math.round(w0 * prepScale));
      const h = Math.max(cropSize, Math.round(h0 * prepScale));
      const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').resize(w, h, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer({ resolveWithObject: true });
      const prepared = fromRaw(data, info.width, info.height, info.channels);
      const slug = key.replace(/[^A-Za-z0-9]+/g, '_');
      for (const [i, pos] of cropPositions(prepared.width, prepared.height, cropSize, cropsPerPhoto).entries()) {
        const id = `${slug}_c${i}`;
        const dir = path.join(cacheDir, 'crops', id);
        mkdirSync(dir, { recursive: true });
        const hr = cropImage(prepared, pos.left, pos.top, cropSize, cropSize);
        const hrRel = path.join('crops', id, 'hr.png');
        await writePng(hr, path.join(cacheDir, hrRel));
        const lr: EvalCrop['lr'] = {};
        for (const s of scales) {
          const made = await degrader(hr, s, `eval:${degradation}:${id}:x${s}`);
          const lrRel = path.join('crops', id, `lr_${degradation}_x${s}.png`);
          await writePng(made.lr, path.join(cacheDir, lrRel));
          lr[`x${s}`] = { path: lrRel, steps: made.steps };
        }
        crops.push({ id, photo: key, box: { left: pos.left, top: pos.top, size: cropSize, prepScale }, hr: hrRel, lr });
      }
    }
    log(`${pkg.name} ${version}: ${photos.filter((p) => p.package === pkg.name).length} held-out photos`);
  }
  const set: EvalSet = { version: INDEX_VERSION, degradation, cropSize, cropsPerPhoto, maxShortSide, scales, packages, photos, crops, rejected };
  writeFileSync(indexPath(cacheDir, degradation), `${JSON.stringify(set, null, 2)}\n`);
  return set;
}

function fromRaw(data: Uint8Array, w: number, h: number, channels: number): PlanarImage {
  if (channels === 3) return fromInterleavedU8(data, w, h, 3);
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = data[i * channels] as number;
  return fromInterleavedU8(rgb, w, h, 3);
}

/** The HR crop and its LR input at `scale`. */
export async function loadPair(set: EvalSet, crop: EvalCrop, scale: number, cacheDir: string = DEFAULT_EVAL_CACHE): Promise<{ hr: PlanarImage; lr: PlanarImage }> {
  const lrRec = crop.lr[`x${scale}`];
  if (!lrRec) throw new Error(`crop ${crop.id} has no ×${scale} input (set scales: ${set.scales.join(', ')})`);
  return { hr: await readRgb(path.join(cacheDir, crop.hr)), lr: await readRgb(path.join(cacheDir, lrRec.path)) };
}

/** A small, fixed, diverse subset for CI-sized runs (one photo per package when available). */
export function quickSubset(set: EvalSet, count = 2): EvalCrop[] {
  const preferred = ['opencv-doc:data/baboon.jpg', 'plasma-workspace-wallpapers:EveningGlow', 'opencv-doc:data/building.jpg', 'plasma-workspace-wallpapers:Path'];
  const picked: EvalCrop[] = [];
  for (const key of preferred) {
    const c = set.crops.find((x) => x.photo === key);
    if (c && picked.length < count) picked.push(c);
  }
  for (const c of set.crops) if (picked.length < count && !picked.includes(c)) picked.push(c);
  return picked;
}
