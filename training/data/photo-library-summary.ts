/**
 * What the photo library holds, in numbers: photos and megapixels (of the originals, before the
 * working copies are downscaled), per package, per licence, the content-only share and the split.
 * `codi build-dataset --summary` prints it; docs/data.md §5 records it.
 */
import type { PhotoLibraryIndex } from './debian-fetch.ts';

export interface PackageSummary {
  name: string;
  version: string;
  /** image files looked at (container members included) */
  images: number;
  photos: number;
  megapixels: number;
  contentOnly: number;
  val: number;
}

export interface LibrarySummary {
  photos: number;
  megapixels: number;
  contentOnly: number;
  val: number;
  rejected: number;
  packages: PackageSummary[];
  /** licence (plus the upstream statement where it differs) → photos */
  licences: { licence: string; photos: number }[];
}

export function summariseLibrary(index: PhotoLibraryIndex): LibrarySummary {
  const mp = (w: number, h: number): number => (w * h) / 1e6;
  const packages: PackageSummary[] = index.packages.map((p) => {
    const mine = index.photos.filter((ph) => ph.package === p.name);
    return {
      name: p.name,
      version: p.version,
      images: p.images,
      photos: mine.length,
      megapixels: mine.reduce((s, ph) => s + mp(ph.width, ph.height), 0),
      contentOnly: mine.filter((ph) => ph.contentOnly).length,
      val: mine.filter((ph) => ph.split === 'val').length,
    };
  });
  const licences = new Map<string, number>();
  for (const ph of index.photos) {
    const l = ph.upstreamLicence ? `${ph.licence} (upstream: ${ph.upstreamLicence})` : ph.licence;
    licences.set(l, (licences.get(l) ?? 0) + 1);
  }
  return {
    photos: index.photos.length,
    megapixels: index.photos.reduce((s, ph) => s + mp(ph.width, ph.height), 0),
    contentOnly: index.photos.filter((ph) => ph.contentOnly).length,
    val: index.photos.filter((ph) => ph.split === 'val').length,
    rejected: index.rejected.length,
    packages,
    licences: [...licences].map(([licence, photos]) => ({ licence, photos })).sort((a, b) => b.photos - a.photos || (a.licence < b.licence ? -1 : 1)),
  };
}

/** The summary as a Markdown report (tables), ready to paste into docs/data.md. */
export function formatLibrarySummary(s: LibrarySummary): string {
  const lines = [
    `${s.photos} photos, ${s.megapixels.toFixed(0)} MP (originals), ${s.contentOnly} content-only, ${s.val} in val, ${s.rejected} images rejected`,
    '',
    '| package | version | images | photos | MP | content-only | val |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...s.packages.map((p) => `| ${p.name} | ${p.version} | ${p.images} | ${p.photos} | ${p.megapixels.toFixed(1)} | ${p.contentOnly} | ${p.val} |`),
    '',
    '| licence (debian/copyright; upstream where it differs) | photos |',
    '| --- | ---: |',
    ...s.licences.map((l) => `| ${l.licence.replace(/\|/g, '\\|')} | ${l.photos} |`),
  ];
  return `${lines.join('\n')}\n`;
}
