import { describe, expect, it } from 'vitest';
import { makeRgba } from '../editor/document.ts';
import type { JobResult } from './jobRunner.svelte.ts';
import { Variations } from './variations.svelte.ts';

const result = (id: string): JobResult => ({ img: makeRgba(1, 1), imageId: id, elapsedMs: 1, notes: [] });

describe('Variations', () => {
  it('tries consecutive seeds (wrapping at 2^32) and offers each result as it arrives', async () => {
    const revoked: string[] = [];
    const v = new Variations(async () => `blob:${Math.random()}`, (u) => revoked.push(u));
    v.count = 3;
    const seeds: number[] = [];
    const found = await v.run(0xffffffff, async (seed) => {
      seeds.push(seed);
      expect(v.running).toEqual({ done: seeds.length - 1, total: 3 });
      return result(`img_${seed}`);
    });
    expect(found).toBe(3);
    expect(seeds).toEqual([0xffffffff, 0, 1]);
    expect(v.list.map((x) => x.seed)).toEqual(seeds);
    expect(v.running).toBeNull();
    const thumbs = v.list.map((x) => x.thumb);
    v.discard();
    expect(v.list).toEqual([]);
    expect(revoked).toEqual(thumbs);
  });

  it('ends at the first failed job, and stop() ends after the job in flight', async () => {
    const v = new Variations(async () => 'blob:x', () => {});
    v.count = 4;
    expect(await v.run(1, async (seed) => (seed === 2 ? null : result('r')))).toBe(1);
    const n = await v.run(10, async () => {
      v.stop();
      return result('r');
    });
    expect(n).toBe(1);
  });
});
