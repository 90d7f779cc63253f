/**
 * The repository's import graph, from source text: every static import, re-export, `import type`
 * and `import()` of a relative path in a .ts or .svelte file (only the <script> blocks of a
 * .svelte file), resolved to the file it names. Package imports are not edges: a circle needs
 * two of our own files.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import ts from 'typescript';

export type ImportGraph = Map<string, Set<string>>;

const SCRIPT_BLOCK = /<script\b[^>]*>([\s\S]*?)<\/script>/g;

/** The TypeScript text of a file: a .svelte file's <script> blocks, any other file as it is. */
export function scriptText(file: string, text: string): string {
  if (!file.endsWith('.svelte')) return text;
  return [...text.matchAll(SCRIPT_BLOCK)].map((m) => m[1] ?? '').join('\n');
}

/**
 * Module specifiers of a file, type-only imports included (see the test for why). TypeScript's
 * import scanner reads tokens without building a syntax tree: a quarter of the time of a full parse.
 */
export function importSpecifiers(file: string, text: string): string[] {
  return ts.preProcessFile(scriptText(file, text), true, true).importedFiles.map((f) => f.fileName);
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/** The repository file (posix, relative to root) a relative specifier names, or null. */
export function resolveRelative(root: string, from: string, spec: string): string | null {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return null;
  const base = join(root, dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  const hit = candidates.find(isFile);
  return hit === undefined ? null : relative(root, hit).split('\\').join(posix.sep);
}

/** Edges between the given files; an import of a file outside the set is kept only if that file exists. */
export function buildImportGraph(root: string, files: readonly string[], read: (file: string) => string): { graph: ImportGraph; unresolved: string[] } {
  const graph: ImportGraph = new Map();
  const unresolved: string[] = [];
  for (const file of files) {
    const edges = new Set<string>();
    for (const spec of importSpecifiers(file, read(file))) {
      if (!spec.startsWith('.')) continue;
      const target = resolveRelative(root, file, spec);
      if (target === null) unresolved.push(`${file}: ${spec}`);
      else edges.add(target);
    }
    graph.set(file, edges);
  }
  return { graph, unresolved };
}

/**
 * Every circle, as one strongly connected component each (Tarjan), reported as a concrete
 * path a → b → … → a through it so the message says which import to cut.
 */
export function findCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const strongConnect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) components.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) strongConnect(v);
  return components.map((c) => cyclePath(graph, new Set(c)));
}

/** A shortest circle through the component's first file (by name), staying inside the component. */
function cyclePath(graph: ImportGraph, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
