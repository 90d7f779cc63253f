import { describe, expect, it } from 'vitest';
import { docSections, findReferences, pitfallNumbers, tagsDefined } from './doc-references.ts';

describe('doc reference scanner', () => {
  it('reads sections, pitfalls and tags from comments and ties a bare § to the last cited doc', () => {
    const src = [
      '/**',
      ' * The sampler (docs/method.md §7.1, [FC]) and its variant (§7.2); pitfall 16.',
      ' */',
      'const x = a[REC]; // see §§4.3, 6',
    ].join('\n');
    const refs = findReferences(src);
    expect(refs).toContainEqual({ kind: 'section', line: 2, doc: 'docs/method.md', section: '7.1' });
    expect(refs).toContainEqual({ kind: 'section', line: 2, doc: 'docs/method.md', section: '7.2' });
    expect(refs).toContainEqual({ kind: 'section', line: 4, doc: 'docs/method.md', section: '4.3' });
    expect(refs).toContainEqual({ kind: 'section', line: 4, doc: 'docs/method.md', section: '6' });
    expect(refs).toContainEqual({ kind: 'pitfall', line: 2, number: 16 });
    expect(refs).toContainEqual({ kind: 'tag', line: 2, tag: 'FC' });
    // Code is not a comment: a[REC] on line 4 is not a tag.
    expect(refs.filter((r) => r.kind === 'tag')).toHaveLength(1);
  });

  it('flags absolute paths, a markdown file to resolve and a § with no document', () => {
    const refs = findReferences('// see ../notes/method-notes.md §4, or /home/someone/notes.md\n');
    expect(refs).toContainEqual({ kind: 'outside', line: 1, text: '/home/someone/notes.md' });
    expect(refs).toContainEqual({ kind: 'section', line: 1, doc: undefined, section: '4' });
    expect(refs).toContainEqual({ kind: 'markdown', line: 1, text: '../notes/method-notes.md' });
  });

  it('leaves sections of public standards alone', () => {
    expect(findReferences('// the fields (TIFF 6.0 §2, Exif 2.3 §4.6)\n')).toEqual([]);
  });

  it('reads headings, the pitfall list and the tag table of a document', () => {
    const md = '# T\n\n## 1. Tags\n\n| tag | m |\n|---|---|\n| [FC] | x |\n| [P*] | y |\n\n## 7. S\n\n### 7.1 A\n\n## 10. Pitfalls\n\n1. a\n2. b\n';
    expect(docSections(md)).toEqual(new Set(['1', '7', '7.1', '10']));
    expect(tagsDefined(md)).toEqual(new Set(['FC', 'P*']));
    expect(pitfallNumbers(md)).toEqual(new Set([1, 2]));
  });
});
