import { describe, it, expect } from 'vitest';
import { parseRequest } from './api.ts';
import { channelsServedBy } from './channels.ts';
import { codiEvent } from './schemas.ts';

describe('batch channels', () => {
  it('validates startBatch with defaults and refuses bad fields', () => {
    const r = parseRequest('startBatch', { tool: 'restore', inDir: '/a', outDir: '/b' });
    expect(r.ok && r.value.overwrite === false && r.value.seed === 0 && r.value.quality === 95).toBe(true);
    for (const [payload, field] of [
      [{ tool: 'inpaint', inDir: '/a', outDir: '/b' }, 'tool'],
      [{ tool: 'edit', inDir: 'a\0', outDir: '/b' }, 'inDir'],
      [{ tool: 'edit', inDir: '/a' }, 'outDir'],
      [{ tool: 'edit', inDir: '/a', outDir: '/b', format: 'bmp' }, 'format'],
      [{ tool: 'edit', inDir: '/a', outDir: '/b', extra: 1 }, ''],
    ] as const) {
      const bad = parseRequest('startBatch', payload);
      expect(bad.ok).toBe(false);
      if (!bad.ok && field) expect(bad.error.message).toContain(field);
    }
    expect(parseRequest('pauseBatch', { batchId: 'job_x' }).ok).toBe(false);
    expect(parseRequest('cancelBatch', { batchId: 'batch_x1' }).ok).toBe(true);
  });

  it('routes batch channels to the broker, not the shell, and carries progress events', () => {
    expect(channelsServedBy('batch')).toEqual(['startBatch', 'pauseBatch', 'resumeBatch', 'cancelBatch']);
    for (const c of channelsServedBy('batch')) expect(channelsServedBy('shell')).not.toContain(c);
    const ev = { type: 'batch-progress', batch: { batchId: 'batch_1', state: 'running', done: 1, total: 3, succeeded: 0, current: 'a.png', results: [{ input: '/i/a.png', output: '/o/a.png', status: 'failed', message: 'bad' }] } };
    expect(codiEvent.safeParse(ev).success).toBe(true);
    expect(codiEvent.safeParse({ ...ev, batch: { ...ev.batch, state: 'exploded' } }).success).toBe(false);
  });

  it('accepts a depth condition image id on runTool', () => {
    expect(parseRequest('runTool', { tool: 'depth', imageId: 'img_a', condition: 'img_b' }).ok).toBe(true);
    expect(parseRequest('runTool', { tool: 'depth', imageId: 'img_a', condition: '../x' }).ok).toBe(false);
  });
});
