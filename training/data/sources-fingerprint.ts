/**
 * A fingerprint of a data set's source list (dataset.json `sources`: the photographs, their
 * packages, versions, licences and splits). Packs record the one they were trained on, so a later
 * rewrite of their model card's "Training data" section (build/finalize-packs.ts) can tell whether
 * the data set on disk is still the one they saw: rebuilt data sets grow as the photo library does.
 */
import { createHash } from 'node:crypto';

export function sourcesFingerprint(sources: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(sources)).digest('hex');
}
