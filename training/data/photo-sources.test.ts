import { describe, it, expect } from 'vitest';
import { assertTrainingPackage, assignSplits, decideFile, EVALUATION_RESERVED_PACKAGES, FILE_GROUPS, FILE_OVERRIDES, licenceFor, memberFileName, parseDep5, PHOTO_PACKAGES } from './photo-sources.ts';
import { isLikelyPhoto, photoStats } from './photo-stats.ts';
import { Rng } from '../../core/rng.ts';

const DEP5 = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2009 the team
License: BSD-3-Clause

Files: 16.04/Bridge_by_X.jpg
Copyright: 2018. X
License: CC-BY-SA-4.0

Files: nature/*.jpg
Copyright: 2008, Y
 2009, Z
License: GPL-2+
 long text
`;

describe('evaluation-reserved packages', () => {
  it('opencv-doc and plasma-workspace-wallpapers are denied everywhere', () => {
    expect(EVALUATION_RESERVED_PACKAGES).toEqual(expect.arrayContaining(['opencv-doc', 'plasma-workspace-wallpapers']));
    for (const p of EVALUATION_RESERVED_PACKAGES) {
      expect(() => assertTrainingPackage(p)).toThrow(/reserved/);
      expect(() => assertTrainingPackage(` ${p.toUpperCase()} `)).toThrow(/reserved/);
      expect(() => decideFile(p, 'usr/share/wallpapers/x.jpg', null)).toThrow(/reserved/);
    }
    for (const p of PHOTO_PACKAGES) expect(() => assertTrainingPackage(p.name)).not.toThrow();
    for (const key of Object.keys(FILE_OVERRIDES)) expect(EVALUATION_RESERVED_PACKAGES).not.toContain(key.split(':')[0]);
  });
});

describe('photo decisions', () => {
  it('SVGs are never used, explicit decisions beat the filter', () => {
    expect(decideFile('gnome-backgrounds', 'usr/share/backgrounds/gnome/dune-l.svg', null).use).toBe(false);
    expect(decideFile('mate-backgrounds', 'usr/share/backgrounds/mate/nature/Storm.jpg', null).use).toBe(true);
    expect(decideFile('mate-backgrounds', 'usr/share/backgrounds/mate/abstract/Elephants.jpg', null).use).toBe(false);
  });

  it('the filter keeps a noisy textured colour image and rejects flat, grey and tiny ones', () => {
    const w = 200, h = 150;
    const rng = new Rng(1);
    const noisy = new Uint8Array(w * h * 3).map(() => Math.floor(256 * rng.uniform()));
    expect(isLikelyPhoto(photoStats(noisy, w, h, 800, 600)).photo).toBe(true);
    const flat = new Uint8Array(w * h * 3).map((_, i) => (i % 3 === 0 ? 200 : 40));
    expect(isLikelyPhoto(photoStats(flat, w, h, 800, 600)).photo).toBe(false);
    const grey = noisy.map((_, i) => noisy[i - (i % 3)] as number);
    expect(isLikelyPhoto(photoStats(grey, w, h, 800, 600)).reason).toMatch(/greyscale/);
    expect(isLikelyPhoto(photoStats(noisy, w, h, 200, 150)).reason).toMatch(/short side/);
  });
});

describe('licences from debian/copyright', () => {
  it('parses DEP-5 paragraphs', () => {
    const ps = parseDep5(DEP5);
    expect(ps.map((p) => p.license)).toEqual(['BSD-3-Clause', 'CC-BY-SA-4.0', 'GPL-2+']);
    expect(ps[2]?.copyright).toBe('2008, Y; 2009, Z');
  });

  it('matches installed paths by suffix, by file name, then by wildcard', () => {
    expect(licenceFor(DEP5, 'usr/share/backgrounds/mate/nature/Aqua.jpg').licence).toBe('GPL-2+');
    expect(licenceFor(DEP5, 'usr/share/backgrounds/Bridge_by_X.jpg').licence).toBe('CC-BY-SA-4.0');
    expect(licenceFor(DEP5, 'usr/lib/python3/skimage/data/coffee.png')).toMatchObject({ licence: 'BSD-3-Clause', matchedBy: 'Files: *' });
  });

  it('takes the licence from the line below an empty `License:` and matches converted images by path', () => {
    const text = `${DEP5}\nFiles: data/images/backgrounds/*\n data/images/title/menu_bkg.jpg\nCopyright: not-applicable\nLicense:\n Public Domain\n\nFiles: src/activities/erase/resource/gorilla.jpg\nCopyright: W\nLicense: CC-BY-SA-4.0\n`;
    expect(licenceFor(text, 'usr/share/tuxmath/images/title/menu_bkg.jpg').licence).toBe('Public Domain');
    // gcompris ships its source JPEGs as WebP inside .rcc files
    expect(licenceFor(text, 'gcompris/src/activities/erase/resource/gorilla.webp')).toMatchObject({ licence: 'CC-BY-SA-4.0', copyright: 'W' });
    expect(licenceFor(text, 'gcompris/src/activities/erase/resource/gorilla2.webp').licence).toBe('BSD-3-Clause');
  });

  it('reads free-form copyright text', () => {
    const text = 'Image Authors:\n - adwaita*\n   Copyright © 2011 J\n   Licensed under Creative Commons Attribution-ShareAlike 3.0 License.\n';
    expect(licenceFor(text, 'usr/share/backgrounds/gnome/adwaita-d.webp').licence).toMatch(/ShareAlike 3.0/);
  });
});

describe('photos cut out of containers', () => {
  it('get unique file names from the container and the member folder', () => {
    expect(memberFileName('usr/share/gcompris-qt/rcc/erase.rcc', 'gcompris/src/activities/erase/resource/gorilla.webp')).toBe('erase--resource-gorilla.webp');
    expect(memberFileName('a/details.rcc', 'x/image/Nagoya_background.webp')).not.toBe(memberFileName('a/details.rcc', 'x/other/Nagoya_background.webp'));
  });

  it('gcompris photos are content only, only from the photo activities, and paintings are denied', () => {
    const gc = PHOTO_PACKAGES.find((p) => p.name === 'gcompris-qt-data');
    expect(gc?.container).toBe('rcc');
    expect(gc?.contentOnly).toBeTruthy();
    expect(gc?.members?.test('gcompris/src/activities/erase/resource/gorilla.webp')).toBe(true);
    expect(gc?.members?.test('gcompris/src/activities/lang/resource/words_sample/gorilla.webp')).toBe(false);
    expect(decideFile('gcompris-qt-data', 'details--image-Gogh4_background.webp', null).use).toBe(false);
    expect(PHOTO_PACKAGES.find((p) => p.name === 'enlightenment-data')?.container).toBe('edj');
    expect(PHOTO_PACKAGES.find((p) => p.name === 'lxqt-themes')?.upstreamLicence).toMatch(/CC-BY-SA-3.0/);
  });
});

describe('train/val split by file', () => {
  const keys = Array.from({ length: 30 }, (_, i) => `pkg:file${i}.jpg`).concat(['python3-skimage:motorcycle_left.png', 'python3-skimage:motorcycle_right.png']);
  it('is deterministic, independent of order, and keeps groups together', () => {
    const a = assignSplits(keys, 0.15);
    const b = assignSplits([...keys].reverse(), 0.15);
    for (const k of keys) expect(a.get(k)).toBe(b.get(k));
    const nVal = [...a.values()].filter((s) => s === 'val').length;
    expect(nVal).toBeGreaterThanOrEqual(5);
    expect(nVal).toBeLessThanOrEqual(6);
    expect(a.get('python3-skimage:motorcycle_left.png')).toBe(a.get('python3-skimage:motorcycle_right.png'));
    for (const [key, group] of Object.entries(FILE_GROUPS)) {
      const partners = Object.keys(FILE_GROUPS).filter((k) => FILE_GROUPS[k] === group);
      expect(partners.length).toBeGreaterThanOrEqual(2);
      const split = assignSplits([...keys, ...Object.keys(FILE_GROUPS)], 0.15);
      for (const p of partners) expect(split.get(p)).toBe(split.get(key));
    }
  });

  it('always keeps at least one val file when there are two', () => {
    expect([...assignSplits(['a', 'b'], 0.01).values()].sort()).toEqual(['train', 'val']);
  });
});
