/**
 * The "Training data" section of a bundled pack's model card: the photographs of the data set it
 * was trained on, with Debian package, version and licence. Written only when the data set on
 * disk is the one the pack was trained on (its manifest's `training.sources` fingerprint): a data
 * set rebuilt since (a larger photo library) would list photographs the pack never saw, so such a
 * card, and a card of a pack older than the fingerprint, keeps the section it has.
 */
import { sourcesFingerprint } from '../training/data/sources-fingerprint.ts';

export interface SourceRecord { package: string; version: string; path: string; licence: string; split: string }

export function sourcesSection(sources: readonly SourceRecord[]): string {
  const byPkg = new Map<string, { version: string; licences: Set<string>; train: number; val: number }>();
  for (const s of sources) {
    const e = byPkg.get(s.package) ?? { version: s.version, licences: new Set(), train: 0, val: 0 };
    e.licences.add(s.licence);
    if (s.split === 'val') e.val++;
    else e.train++;
    byPkg.set(s.package, e);
  }
  const rows = [...byPkg.entries()].map(([pkg, e]) => `| ${pkg} | ${e.version} | ${[...e.licences].join(', ')} | ${e.train} | ${e.val} |`);
  return [
    '## Training data',
    '',
    'Photographs from Debian packages (fetched with `apt-get download`, never installed), cut into 64×64 crops by',
    '`codi build-dataset`. Photos held out for validation are whole files, not crops. The packages reserved for',
    'independent evaluation (opencv-doc, plasma-workspace-wallpapers) were not used.',
    '',
    '| package | version | licence(s) | train photos | val photos |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    '<details><summary>Every file</summary>',
    '',
    ...sources.map((s) => `- ${s.package} ${s.version}: \`${s.path}\` (${s.licence}, ${s.split})`),
    '',
    '</details>',
    '',
  ].join('\n');
}

export type CardSourcesResult = { card: string; wrote: true } | { card: string; wrote: false; why: string };

/** The card with its "Training data" section replaced by `sources`' when `trainedOn` (the manifest's fingerprint) matches them. */
export function withTrainingData(card: string, trainedOn: string | undefined, sources: readonly SourceRecord[]): CardSourcesResult {
  if (!trainedOn) return { card, wrote: false, why: 'the pack records no data set fingerprint (trained before it was recorded)' };
  if (trainedOn !== sourcesFingerprint(sources)) return { card, wrote: false, why: 'the data set on disk is not the one the pack was trained on' };
  const head = card.split('\n## Training data')[0]?.trimEnd() ?? '';
  return { card: `${head}\n\n${sourcesSection(sources)}`, wrote: true };
}
