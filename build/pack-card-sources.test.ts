import { describe, expect, it } from 'vitest';
import { sourcesFingerprint } from '../training/data/sources-fingerprint.ts';
import { withTrainingData } from './pack-card-sources.ts';
import type { SourceRecord } from './pack-card-sources.ts';

const old: SourceRecord[] = [{ package: 'mate-backgrounds', version: '1.26.0-1', path: 'a.jpg', licence: 'GPL-2+', split: 'train' }];
const grown: SourceRecord[] = [...old, { package: 'lxqt-themes', version: '1.2.0-1', path: 'b.jpg', licence: 'LGPL-2.1+', split: 'val' }];
const card = '# pack\n\nAbout it.\n\n## Training data\n\n| mate-backgrounds | 1.26.0-1 | GPL-2+ | 1 | 0 |\n';

describe("the model card's Training data section", () => {
  it('is rewritten from the data set the pack was trained on', () => {
    const r = withTrainingData(card, sourcesFingerprint(grown), grown);
    expect(r.wrote).toBe(true);
    expect(r.card.startsWith('# pack\n\nAbout it.\n\n## Training data')).toBe(true);
    expect(r.card).toContain('| lxqt-themes | 1.2.0-1 | LGPL-2.1+ | 0 | 1 |');
    expect(r.card.match(/## Training data/g)).toHaveLength(1);
  });

  it('is kept when the data set on disk has changed since training, or the pack predates the fingerprint', () => {
    const changed = withTrainingData(card, sourcesFingerprint(old), grown);
    expect(changed).toEqual({ card, wrote: false, why: 'the data set on disk is not the one the pack was trained on' });
    const older = withTrainingData(card, undefined, grown);
    expect(older.wrote).toBe(false);
    expect(older.card).toBe(card);
  });
});

describe('sourcesFingerprint', () => {
  it('changes with any source and not otherwise', () => {
    expect(sourcesFingerprint(old)).toBe(sourcesFingerprint(structuredClone(old)));
    expect(sourcesFingerprint(old)).not.toBe(sourcesFingerprint(grown));
    expect(sourcesFingerprint(old)).toMatch(/^[0-9a-f]{64}$/);
  });
});
