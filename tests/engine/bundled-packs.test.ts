/**
 * The bundled packs as shipped: their total size stays inside the download budget the tools issue
 * set (120 MB for native-models/, evaluation baselines included), and every tool follows the recipe
 * the replication found best (whole-network CoDi, residual targets where there is an image to be a
 * residual of, one step by default).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../../core/packs/manifest.ts';

const root = path.join(import.meta.dirname, '..', '..', 'native-models');
const BUDGET_BYTES = 120_000_000;

function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? bytesUnder(p) : statSync(p).size;
  }
  return total;
}

const tools = readdirSync(root, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
  .map((e) => manifestSchema.parse(JSON.parse(readFileSync(path.join(root, e.name, 'manifest.json'), 'utf8'))))
  .filter((m) => m.task !== 'backbone');

describe('bundled packs', () => {
  it(`stay under ${BUDGET_BYTES / 1e6} MB together`, () => {
    expect(bytesUnder(root)).toBeLessThan(BUDGET_BYTES);
  });

  it('are whole-network CoDi tools that default to one step', () => {
    // two ×4 restore tools: one for clean small photos, one for blurred, noisy or JPEG-damaged ones
    expect(tools.map((m) => m.task).sort()).toEqual(['depth', 'edit', 'inpaint', 'restore', 'restore']);
    for (const m of tools) {
      expect(m.method, m.name).toBe('codi');
      expect(m.sampler.steps, m.name).toBe(1);
      expect(m.residual, m.name).toBe(m.task === 'depth' ? 'none' : 'condition');
    }
  });
});
