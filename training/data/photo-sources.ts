/**
 * Which Debian packages and files the training photographs come from, and the rules that decide.
 * Policy (docs/data.md):
 * - packages reserved for independent evaluation are never fetched or read (explicit deny list,
 *   enforced by {@link assertTrainingPackage});
 * - a file is used when the explicit per-file list allows it, or when it is not denied there and
 *   passes the automatic photo filter ({@link isLikelyPhoto}); vector files (SVG) are never used;
 * - licences come from the package's DEP-5 `debian/copyright` ({@link licenceFor});
 * - train/val are split by file (never by crop), deterministically, keeping groups of near-duplicate
 *   files (a stereo pair) in the same split ({@link assignSplits}).
 */
import { isLikelyPhoto } from './photo-stats.ts';
import type { PhotoStats } from './photo-stats.ts';

/** Reserved for independent evaluation: never fetched, never read, never trained or tuned on. */
export const EVALUATION_RESERVED_PACKAGES: readonly string[] = ['opencv-doc', 'plasma-workspace-wallpapers'];

/** A Debian package searched for photographs. */
export interface PhotoPackage {
  name: string;
  /** folders inside the package that hold images */
  roots: readonly string[];
}

/** Candidate packages (checked with apt-cache on Debian bookworm). gnome-backgrounds and
 * ukui-wallpapers are searched but contribute no photographs (all artwork). */
export const PHOTO_PACKAGES: readonly PhotoPackage[] = [
  { name: 'mate-backgrounds', roots: ['usr/share/backgrounds/mate'] },
  { name: 'lomiri-wallpapers-16.04', roots: ['usr/share/backgrounds'] },
  { name: 'lomiri-wallpapers-20.04', roots: ['usr/share/backgrounds'] },
  { name: 'ukui-wallpapers', roots: ['usr/share/backgrounds'] },
  { name: 'gnome-backgrounds', roots: ['usr/share/backgrounds/gnome'] },
  { name: 'python3-skimage', roots: ['usr/lib/python3/dist-packages/skimage/data'] },
];

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'];

/** Throws when a package is reserved for evaluation. */
export function assertTrainingPackage(name: string): void {
  if (EVALUATION_RESERVED_PACKAGES.includes(name.trim().toLowerCase())) {
    throw new Error(`package ${name} is reserved for independent evaluation and must not be used for training data`);
  }
}

/** A per-file decision that overrides the automatic filter. */
export interface FileOverride {
  decision: 'allow' | 'deny';
  reason: string;
  /** optional upstream provenance note (kept in the sources record) */
  note?: string;
}

/**
 * Explicit decisions, keyed `package:basename`, made by looking at every candidate. They cover
 * the cases the automatic filter gets wrong: artwork with photo-like statistics (renders,
 * composites, painted textures) and real photos with few colours (smooth bokeh, near-grey scenes).
 */
export const FILE_OVERRIDES: Readonly<Record<string, FileOverride>> = {
  'mate-backgrounds:Blinds.jpg': { decision: 'allow', reason: 'photo (leaf close-up), few colours after quantisation' },
  'mate-backgrounds:Storm.jpg': { decision: 'allow', reason: 'photo (storm over the sea), smooth sky' },
  'mate-backgrounds:Aqua.jpg': { decision: 'allow', reason: 'photo (water drop), smooth bokeh' },
  'mate-backgrounds:FreshFlower.jpg': { decision: 'allow', reason: 'photo (flower macro), smooth bokeh' },
  'mate-backgrounds:Garden.jpg': { decision: 'allow', reason: 'photo (marigold), smooth bokeh' },
  'mate-backgrounds:GreenMeadow.jpg': { decision: 'allow', reason: 'photo (grass)' },
  'mate-backgrounds:RainDrops.jpg': { decision: 'allow', reason: 'photo (leaf with drops)' },
  'mate-backgrounds:Wood.jpg': { decision: 'allow', reason: 'photo (wood planks, shallow depth of field)' },
  'mate-backgrounds:YellowFlower.jpg': { decision: 'allow', reason: 'photo (flower macro)' },
  'mate-backgrounds:Elephants.jpg': { decision: 'deny', reason: 'digital artwork' },
  'mate-backgrounds:Elephants_3840x2160.jpg': { decision: 'deny', reason: 'digital artwork' },
  'mate-backgrounds:Elephants_5640x3172.jpg': { decision: 'deny', reason: 'digital artwork' },
  'mate-backgrounds:Float-into-MATE.png': { decision: 'deny', reason: 'artwork with logo' },
  'lomiri-wallpapers-16.04:Bridge_by_Sander_Klootwijk.jpg': { decision: 'allow', reason: 'photo (bridge cables, sky)' },
  'lomiri-wallpapers-16.04:Picture_0B_by_freespace.jpg': { decision: 'allow', reason: 'photo (fig in a red bowl)' },
  'lomiri-wallpapers-16.04:Wine_by_Jakkub_Mede.jpg': { decision: 'allow', reason: 'photo (interior)' },
  'lomiri-wallpapers-16.04:aitzgorri_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (mountain landscape)' },
  'lomiri-wallpapers-16.04:analogpattern_by_Peter_Nerlich.jpg': { decision: 'allow', reason: 'photo (textured surface, visible grain)' },
  'lomiri-wallpapers-16.04:free_by_Peter_Nerlich.jpg': { decision: 'allow', reason: 'photo (lamps and a bird figure), nearly grey' },
  'lomiri-wallpapers-16.04:friends_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (dogs at a fence)' },
  'lomiri-wallpapers-16.04:greentock_by_Peter_Nerlich.jpg': { decision: 'allow', reason: 'photo (wall clock), nearly grey' },
  'lomiri-wallpapers-16.04:life_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (forest stream)' },
  'lomiri-wallpapers-16.04:picosdeeuropa_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (mountains)' },
  'lomiri-wallpapers-16.04:seeding_by_Clements_Engelhardt.jpg': { decision: 'allow', reason: 'photo (dandelions)' },
  'lomiri-wallpapers-16.04:sunset_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (sunset landscape)' },
  'lomiri-wallpapers-16.04:umang_by_Abhishek_Mudgal.jpg': { decision: 'deny', reason: 'colour-gradient artwork' },
  'lomiri-wallpapers-20.04:Kleiber_by_Lukas_Baubkus.jpg': { decision: 'allow', reason: 'photo (nuthatch on a tree)' },
  'lomiri-wallpapers-20.04:Infinite-Sea_by_Aury88.jpg': { decision: 'deny', reason: 'composite artwork (graphic overlay on a sky photo)' },
  'gnome-backgrounds:grid-d.webp': { decision: 'deny', reason: '3-D render' },
  'gnome-backgrounds:licorice-d.webp': { decision: 'deny', reason: '3-D render' },
  'gnome-backgrounds:licorice-l.webp': { decision: 'deny', reason: '3-D render' },
  'gnome-backgrounds:pixels-l.webp': { decision: 'deny', reason: '3-D render of icons' },
  'ukui-wallpapers:calla.png': { decision: 'deny', reason: 'illustration' },
  'ukui-wallpapers:fluent-color.png': { decision: 'deny', reason: 'abstract render' },
  'ukui-wallpapers:goldfish.png': { decision: 'deny', reason: 'illustration' },
  'ukui-wallpapers:string.jpg': { decision: 'deny', reason: 'abstract render' },
  'python3-skimage:astronaut.png': { decision: 'allow', reason: 'photo', note: 'skimage docs: NASA, no known copyright restrictions (public domain)' },
  'python3-skimage:chelsea.png': { decision: 'allow', reason: 'photo (cat)', note: 'skimage docs: CC0 by the photographer (Stefan van der Walt)' },
  'python3-skimage:coffee.png': { decision: 'allow', reason: 'photo (coffee cup)', note: 'skimage docs: CC0 by the photographer (Rachel Michetti)' },
  'python3-skimage:hubble_deep_field.jpg': { decision: 'allow', reason: 'photo (deep field)', note: 'skimage docs: NASA, public domain' },
  'python3-skimage:motorcycle_left.png': { decision: 'allow', reason: 'photo (stereo pair, left)', note: 'skimage docs: Middlebury 2014 stereo benchmark' },
  'python3-skimage:motorcycle_right.png': { decision: 'allow', reason: 'photo (stereo pair, right)', note: 'skimage docs: Middlebury 2014 stereo benchmark' },
  'python3-skimage:rocket.jpg': { decision: 'allow', reason: 'photo (launch pad at night)', note: 'skimage docs: SpaceX, public domain' },
  'python3-skimage:ihc.png': { decision: 'deny', reason: 'microscopy, not a natural photograph' },
  'python3-skimage:retina.jpg': { decision: 'deny', reason: 'medical fundus image' },
  'python3-skimage:color.png': { decision: 'deny', reason: 'synthetic colour wheel' },
  'python3-skimage:logo.png': { decision: 'deny', reason: 'logo' },
};

/** Files that must land in the same split (near-duplicates). Keyed `package:basename` → group. */
export const FILE_GROUPS: Readonly<Record<string, string>> = {
  'python3-skimage:motorcycle_left.png': 'skimage-motorcycle',
  'python3-skimage:motorcycle_right.png': 'skimage-motorcycle',
};

export function fileKey(pkg: string, path: string): string {
  return `${pkg}:${path.split('/').pop() ?? path}`;
}

/** Decide whether a file is used: vector files never; explicit list first; then the filter. */
export function decideFile(pkg: string, path: string, stats: PhotoStats | null): { use: boolean; reason: string; note?: string } {
  assertTrainingPackage(pkg);
  const lower = path.toLowerCase();
  if (lower.endsWith('.svg') || lower.endsWith('.svgz')) return { use: false, reason: 'vector artwork (SVG)' };
  const o = FILE_OVERRIDES[fileKey(pkg, path)];
  if (o) return { use: o.decision === 'allow', reason: `explicit ${o.decision}: ${o.reason}`, ...(o.note ? { note: o.note } : {}) };
  if (!stats) return { use: false, reason: 'unreadable image' };
  const f = isLikelyPhoto(stats);
  return { use: f.photo, reason: `filter: ${f.reason}` };
}

/** One paragraph of a DEP-5 copyright file. */
interface CopyrightParagraph {
  files: string[];
  copyright: string;
  license: string;
}

/** Parse the `Files:` paragraphs of a machine-readable (DEP-5) debian/copyright. */
export function parseDep5(text: string): CopyrightParagraph[] {
  const paragraphs: CopyrightParagraph[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    let current = '';
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m && !line.startsWith(' ')) {
        current = (m[1] as string).toLowerCase();
        fields[current] = (m[2] as string).trim();
      } else if (current && /^\s/.test(line)) {
        fields[current] = `${fields[current] ?? ''}\n${line.trim()}`;
      }
    }
    if (fields['files'] !== undefined && fields['license'] !== undefined) {
      paragraphs.push({
        files: fields['files'].split(/\s+/).filter(Boolean),
        copyright: (fields['copyright'] ?? '').split('\n').map((s) => s.trim()).filter(Boolean).join('; '),
        license: (fields['license'].split('\n')[0] ?? '').trim(),
      });
    }
  }
  return paragraphs;
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`(^|/)${esc}$`);
}

/** Licence of one installed file, from its package's debian/copyright. */
export interface LicenceInfo {
  licence: string;
  copyright: string;
  /** the `Files:` pattern that matched, or how the licence was found */
  matchedBy: string;
}

/**
 * Find the licence of an installed file. Source paths in debian/copyright differ from installed
 * paths (`16.04/x.jpg` vs `usr/share/backgrounds/x.jpg`), so a pattern matches when it is a suffix
 * of the installed path, or when its file name equals the installed file name; the most specific
 * match wins (path suffix > exact name > name glob > `*`), and later paragraphs win ties (DEP-5 rule).
 * Non-DEP-5 files: the licence sentence following the first line that names the file.
 */
export function licenceFor(copyrightText: string, installedPath: string): LicenceInfo {
  const paragraphs = parseDep5(copyrightText);
  const base = installedPath.split('/').pop() ?? installedPath;
  if (paragraphs.length > 0) {
    let best: { score: number; p: CopyrightParagraph; pattern: string } | null = null;
    for (const p of paragraphs) {
      for (const pattern of p.files) {
        const name = pattern.split('/').pop() ?? pattern;
        let score = 0;
        if (pattern === '*') score = 1;
        else if (globToRegExp(pattern).test(installedPath)) score = 4;
        else if (name === base) score = 3;
        else if (!pattern.endsWith('/*') && globToRegExp(name).test(base)) score = 2;
        if (score > 0 && (!best || score >= best.score)) best = { score, p, pattern };
      }
    }
    if (best) return { licence: best.p.license, copyright: best.p.copyright, matchedBy: `Files: ${best.pattern}` };
  }
  const lines = copyrightText.split('\n');
  const stem = base.replace(/[-_.].*$/, '');
  const at = lines.findIndex((l) => l.includes(base) || (stem.length > 2 && l.includes(`${stem}*`)));
  if (at >= 0) {
    const lic = lines.slice(at).find((l) => /licen[cs]ed under/i.test(l));
    if (lic) return { licence: lic.trim(), copyright: '', matchedBy: 'free-form copyright text' };
  }
  return { licence: 'unknown (see package copyright file)', copyright: '', matchedBy: 'none' };
}

/** FNV-1a 32-bit hash of a string (stable split keys). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Split files into train and val: order the groups by a salted hash of their key and take the
 * first ceil(valFraction · groups) as val (at least one when there are two or more groups).
 * Depends only on the keys and the salt, not on file order or count of crops.
 */
export function assignSplits(keys: readonly string[], valFraction: number, salt = 'codi-photos-v1'): Map<string, 'train' | 'val'> {
  const groupOf = (k: string): string => FILE_GROUPS[k] ?? k;
  const groups = [...new Set(keys.map(groupOf))].sort((a, b) => hashString(`${salt}:${a}`) - hashString(`${salt}:${b}`) || (a < b ? -1 : 1));
  const nVal = groups.length < 2 ? 0 : Math.max(1, Math.ceil(valFraction * groups.length));
  const valGroups = new Set(groups.slice(0, nVal));
  const out = new Map<string, 'train' | 'val'>();
  for (const k of keys) out.set(k, valGroups.has(groupOf(k)) ? 'val' : 'train');
  return out;
}
