/** The page names its icon, so the browser does not ask for a /favicon.ico that is not there (a 404 in the console). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const rendererDir = path.resolve(import.meta.dirname, '..', '..', 'renderer');

describe('index.html head', () => {
  it('links the app icon, and the file it links exists', () => {
    const html = readFileSync(path.join(rendererDir, 'index.html'), 'utf8');
    const href = /<link\s+rel="icon"[^>]*\shref="([^"]+)"/.exec(html)?.[1];
    expect(href).toBeDefined();
    expect(existsSync(path.resolve(rendererDir, href!))).toBe(true);
  });
});
