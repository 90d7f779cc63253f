/**
 * The scanner behind doc-references.test.ts: it reads comments (not code or strings) and lists
 * every citation a reader would follow. Written by hand because no lint rule knows this
 * project's citation forms (`docs/x.md §N`, "pitfall N", source tags like [FC]).
 */

export type DocReference =
  | { kind: 'section'; line: number; doc: string | undefined; section: string }
  | { kind: 'pitfall'; line: number; number: number }
  | { kind: 'tag'; line: number; tag: string }
  | { kind: 'markdown'; line: number; text: string }
  | { kind: 'outside'; line: number; text: string };

/** A § preceded by one of these cites a public standard or paper, not a project document. */
const EXTERNAL_SOURCE = /(?:\b(?:TIFF|Exif|ICC|T\.81|PNG|JPEG|RFC|ISO)\b|et al\.).{0,30}$/;
const DOC_CITATION = /docs\/[\w-]+\.md/g;
const SECTION = /§§?\s*(\d+(?:\.\d+)*(?:\s*,\s*\d+(?:\.\d+)*)*)/g;
const PITFALL = /\bpitfall\s+(\d+)/gi;
const TAG = /\[(P\*?|[A-Z]{2,}(?:-[A-Z]{2,})?)\]/g;
const MARKDOWN = /(?<![\w/.:-])((?:\.{1,2}\/)?[\w.-]+(?:\/[\w.-]+)*\.md)\b/g;
/** An absolute path on some machine: a clone elsewhere has nothing there. */
const OUTSIDE = /(?<![\w.:/-])\/(?:work|home|root|tmp|mnt|Users|srv|opt)\/[^\s)`'"]*/;

/** The comment text of one line, or undefined when the line holds no comment. */
function commentOf(line: string, inBlock: boolean): string | undefined {
  const t = line.trim();
  if (inBlock || /^(\*|\/\*|\/\/|#|<!--)/.test(t)) return t;
  const trailing = line.indexOf(' // ');
  return trailing >= 0 ? line.slice(trailing + 4) : undefined;
}

export function findReferences(text: string): DocReference[] {
  const refs: DocReference[] = [];
  let currentDoc: string | undefined;
  let inBlock = false;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const comment = commentOf(raw, inBlock);
    const trimmed = raw.trim();
    if (trimmed.startsWith('/*') && !trimmed.includes('*/')) inBlock = true;
    else if (inBlock && raw.includes('*/')) inBlock = false;
    if (comment === undefined) return;

    const outside = OUTSIDE.exec(comment);
    if (outside) refs.push({ kind: 'outside', line, text: outside[0] });

    // Sections: each § belongs to the last docs/ file named before it (in this line or earlier in
    // the file), unless a public standard is named just before it.
    const docsInLine = [...comment.matchAll(DOC_CITATION)];
    for (const m of comment.matchAll(SECTION)) {
      const before = comment.slice(0, m.index);
      const lastDocHere = docsInLine.filter((d) => (d.index ?? 0) < (m.index ?? 0)).pop();
      if (!lastDocHere && EXTERNAL_SOURCE.test(before)) continue;
      const doc = lastDocHere ? lastDocHere[0] : currentDoc;
      for (const s of (m[1] ?? '').split(',')) refs.push({ kind: 'section', line, doc, section: s.trim() });
    }
    const lastDoc = docsInLine.pop();
    if (lastDoc) currentDoc = lastDoc[0];

    for (const m of comment.matchAll(PITFALL)) refs.push({ kind: 'pitfall', line, number: Number(m[1]) });
    for (const m of comment.matchAll(TAG)) refs.push({ kind: 'tag', line, tag: m[1] ?? '' });
    for (const m of comment.matchAll(MARKDOWN)) {
      const before = comment.slice(0, m.index);
      if (/https?:\/\/\S*$/.test(before)) continue;
      refs.push({ kind: 'markdown', line, text: m[1] ?? '' });
    }
  });
  return refs;
}

/** Section numbers of a markdown document: "## 6. Test plan" → "6", "### 6.1 Nothing lost" → "6.1". */
export function docSections(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s/gm)) out.add(m[1] ?? '');
  return out;
}

/** Numbers of the items of the method document's pitfall list (its section 10). */
export function pitfallNumbers(markdown: string): Set<number> {
  const section = /^## 10\. [^\n]*\n([\s\S]*?)(?=^## |$(?![\s\S]))/m.exec(markdown)?.[1] ?? '';
  return new Set([...section.matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1])));
}

/** Tags defined in the method document's tag table (its section 1). */
export function tagsDefined(markdown: string): Set<string> {
  const section = /^## 1\. [^\n]*\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1] ?? '';
  return new Set([...section.matchAll(/^\| \[([^\]]+)\] \|/gm)].map((m) => m[1] ?? ''));
}
