import { describe, expect, it } from 'vitest';
import { parseRequest } from './api.ts';
import { CHANNELS, channelsServedBy } from './channels.ts';
import { SCHEMAS } from './schemas.ts';

describe('personal adapter channels', () => {
  it('are in the channel table with schemas', () => {
    for (const c of channelsServedBy('personal')) {
      expect(CHANNELS[c]).toBe(`codi:${c}`);
      expect(SCHEMAS[c]).toBeDefined();
    }
  });

  it('validate start requests with defaults and refuse bad fields', () => {
    const r = parseRequest('personalStart', { source: { dir: '/p' }, title: 'Warm' });
    expect(r.ok && r.value).toMatchObject({ align: 'crop', preset: 'quick' });
    expect(parseRequest('personalStart', { source: { dir: '/p' }, title: '' }).ok).toBe(false);
    expect(parseRequest('personalStart', { source: { dir: '/p' }, title: 'x', preset: 'huge' }).ok).toBe(false);
    expect(parseRequest('personalStart', { source: { dir: '/p' }, title: 'x', name: '../evil' }).ok).toBe(false);
    expect(parseRequest('personalStart', { source: { before: '/a', after: '/b' }, title: 'x' }).ok).toBe(true);
    expect(parseRequest('personalStart', { source: { dir: '/p', before: '/a' }, title: 'x' }).ok).toBe(false);
  });

  it('validate run ids, export and import', () => {
    expect(parseRequest('personalPause', { runId: 'my-look-abc' }).ok).toBe(true);
    expect(parseRequest('personalPause', { runId: '../x' }).ok).toBe(false);
    expect(parseRequest('exportAdapter', { pack: 'my-look', path: '/tmp/x.codi-adapter' }).ok).toBe(true);
    expect(parseRequest('exportAdapter', { pack: 'My Look', path: '/tmp/x' }).ok).toBe(false);
    const imp = parseRequest('importAdapter', { path: '/tmp/x.codi-adapter' });
    expect(imp.ok && imp.value.overwrite).toBe(false);
    const pf = parseRequest('personalPreflight', { source: { dir: '/p' } });
    expect(pf.ok && pf.value).toMatchObject({ align: 'crop', estimate: true });
  });

  it('lets startBatch run a personal adapter (custom) tool', () => {
    expect(parseRequest('startBatch', { tool: 'custom', inDir: '/a', outDir: '/b' }).ok).toBe(true);
  });
});
