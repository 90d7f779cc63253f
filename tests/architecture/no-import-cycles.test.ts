/**
 * No import circles in the code folders. A circle means neither module can be read, tested or
 * replaced without the other, and at run time one of them sees the other half-initialised.
 * `import type` edges count too: they vanish at run time, but a type-only circle still ties
 * two modules together (the engine's pipeline and its diffusers tools were one), so the shared
 * types belong in a module of their own. Costs about a second (434 files scanned, 1.4 s with both cores busy).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildImportGraph, findCycles, importSpecifiers } from './import-graph.ts';
import type { ImportGraph } from './import-graph.ts';

const root = join(import.meta.dirname, '..', '..');
const FOLDERS = ['core/', 'electron/', 'training/', 'renderer/src/', 'build/', 'tests/', 'bin/'];

function codeFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  return out
    .split('\n')
    .filter((f) => /\.(ts|svelte)$/.test(f) && !f.endsWith('.d.ts') && FOLDERS.some((d) => f.startsWith(d)) && existsSync(join(root, f)));
}

const graphOf = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

describe('the cycle finder', () => {
  it('reads every kind of import, type-only and svelte <script> blocks included', () => {
    const ts = ["import { a } from './a.ts';", "import type { B } from './b.ts';", "export * from './c.ts';", "export type { D } from './d.ts';", "const e = await import('./e.ts');", "let f: import('./f.ts').F;", "import 'node:fs';"].join('\n');
    expect(importSpecifiers('x.ts', ts)).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts', 'node:fs']);
    const svelte = `<script lang="ts">\n  import Panel from './Panel.svelte';\n</script>\n<p>import x from './not-code.ts'</p>\n<script module>import type { T } from './t.ts';</script>`;
    expect(importSpecifiers('x.svelte', svelte)).toEqual(['./Panel.svelte', './t.ts']);
  });

  it('finds a two-file circle, a longer one, a self-import, and nothing in a tree', () => {
    expect(findCycles(graphOf({ a: ['b'], b: ['a'], c: ['a'] }))).toEqual([['a', 'b', 'a']]);
    expect(findCycles(graphOf({ p: ['q'], q: ['r'], r: ['s', 'p'], s: [] }))).toEqual([['p', 'q', 'r', 'p']]);
    expect(findCycles(graphOf({ s: ['s'] }))).toEqual([['s', 's']]);
    expect(findCycles(graphOf({ a: ['b', 'c'], b: ['c'], c: [] }))).toEqual([]);
  });
});

describe('the repository', () => {
  it('has no import circles in core, electron, training, renderer/src, build, tests and bin', () => {
    const files = codeFiles();
    expect(files.length).toBeGreaterThan(300);
    const { graph, unresolved } = buildImportGraph(root, files, (f) => readFileSync(join(root, f), 'utf8'));
    expect(unresolved, 'relative imports that name no file').toEqual([]);
    const edges = [...graph.values()].reduce((n, s) => n + s.size, 0);
    expect(edges).toBeGreaterThan(files.length);
    const cycles = findCycles(graph).map((c) => c.join(' → '));
    expect(cycles, `import circles (cut one import in each):\n${cycles.join('\n')}`).toEqual([]);
  });
});
