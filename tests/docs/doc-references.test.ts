/**
 * Every "why" comment that cites a document must be checkable by a reader of this repository alone:
 * the cited file exists in the repo, and the cited section (§N), pitfall number and source tag
 * ([FC], [REC], …) exist in it. A citation of a file outside the repository fails here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docSections, findReferences, pitfallNumbers, tagsDefined } from './doc-references.ts';

const root = join(import.meta.dirname, '..', '..');
const SOURCE = /\.(ts|mts|mjs|js|svelte|py|sh|yml|yaml)$/;

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  return out.split('\n').filter((f) => f !== '' && existsSync(join(root, f)));
}

const files = trackedFiles();
const sources = files.filter((f) => SOURCE.test(f) && !f.startsWith('native-models/') && !f.startsWith('bench/results/') && !f.startsWith('tests/docs/'));
const markdownNames = new Set(files.filter((f) => f.endsWith('.md')).map((f) => basename(f)));
const methodDoc = readFileSync(join(root, 'docs/method.md'), 'utf8');

describe('doc references in comments resolve inside the repository', () => {
  it('finds the citations it is meant to check (the scanner is not blind)', () => {
    const all = sources.flatMap((f) => findReferences(readFileSync(join(root, f), 'utf8')));
    expect(all.filter((r) => r.kind === 'section').length).toBeGreaterThan(20);
    expect(all.filter((r) => r.kind === 'pitfall').length).toBeGreaterThan(2);
    expect(all.filter((r) => r.kind === 'tag').length).toBeGreaterThan(2);
  });

  it('every cited file, section, pitfall and tag exists', () => {
    const problems: string[] = [];
    const sectionsOf = new Map<string, Set<string>>();
    const sections = (doc: string): Set<string> => {
      let s = sectionsOf.get(doc);
      if (!s) {
        s = docSections(readFileSync(join(root, doc), 'utf8'));
        sectionsOf.set(doc, s);
      }
      return s;
    };
    const pitfalls = pitfallNumbers(methodDoc);
    const tags = tagsDefined(methodDoc);
    for (const file of sources) {
      for (const ref of findReferences(readFileSync(join(root, file), 'utf8'))) {
        const where = `${file}:${ref.line}`;
        if (ref.kind === 'outside') problems.push(`${where} cites a path outside the repository: ${ref.text}`);
        else if (ref.kind === 'markdown') {
          const local = join(root, dirname(file), ref.text);
          if (!existsSync(join(root, ref.text)) && !existsSync(local) && !markdownNames.has(basename(ref.text))) {
            problems.push(`${where} cites ${ref.text}, which is not in the repository`);
          }
        } else if (ref.kind === 'section') {
          if (ref.doc === undefined) problems.push(`${where} cites §${ref.section} without naming a document`);
          else if (!existsSync(join(root, ref.doc))) problems.push(`${where} cites ${ref.doc}, which does not exist`);
          else if (!sections(ref.doc).has(ref.section)) problems.push(`${where} cites ${ref.doc} §${ref.section}, which has no such section`);
        } else if (ref.kind === 'pitfall') {
          if (!pitfalls.has(ref.number)) problems.push(`${where} cites pitfall ${ref.number}, not listed in docs/method.md §10`);
        } else if (!tags.has(ref.tag)) {
          problems.push(`${where} uses the tag [${ref.tag}], not defined in docs/method.md §1`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
