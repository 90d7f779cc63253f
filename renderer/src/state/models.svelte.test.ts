import { describe, expect, it } from 'vitest';
import type { HubRepoSummary, HubSettings, PullProgress } from '../engine-client/index.ts';
import { formatBytes, formatEta, ModelsState, pullLine } from './models.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { ok, scriptedApi } from './testing/fakeApi.ts';

const SUMMARY: HubRepoSummary = {
  repo: 'acme/tiny-sd',
  revision: '0123456789abcdef0123456789abcdef01234567',
  licence: 'openrail',
  gated: false,
  pipelineTag: null,
  files: [{ path: 'unet/model.onnx', size: 4096 }],
  bytesTotal: 4096,
  mustAccept: 'its licence, openrail, sets conditions on use',
  tokenSet: false,
};
const progress = (pullId: string, phase: PullProgress['phase'], extra: Partial<PullProgress> = {}): PullProgress => ({
  pullId,
  repo: 'acme/tiny-sd',
  phase,
  bytesDone: 1024,
  bytesTotal: 4096,
  bytesPerSecond: 512,
  etaSeconds: 6,
  ...extra,
});
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('ModelsState', () => {
  it('looks up, refuses to pull before the licence is accepted, then pulls the looked-up revision and follows its own events', async () => {
    const started: unknown[] = [];
    const s = scriptedApi({
      describeHubRepo: async () => ok(SUMMARY),
      startPull: async (req) => (started.push(req), ok({ pullId: 'pull_1' })),
    });
    let reloads = 0;
    const notices = new Notices();
    const m = new ModelsState(s.api, notices, async () => void reloads++);
    expect(await m.lookUp(' acme/tiny-sd ')).toBe(true);
    expect(m.summary).toEqual(SUMMARY);
    expect(await m.startPull(false)).toBe(false);
    expect(notices.current?.text).toBe('Accept the licence of acme/tiny-sd first: its licence, openrail, sets conditions on use.');
    expect(started).toEqual([]);
    expect(await m.startPull(true)).toBe(true);
    expect(started).toEqual([{ repo: `acme/tiny-sd@${SUMMARY.revision}`, acceptLicence: true }]);
    expect(m.pulling).toBe(true);
    // while its own pull runs, another pull's events are not its business
    s.emit({ type: 'pull-progress', pull: progress('pull_other', 'downloading') });
    expect(m.pull?.phase).toBe('resolving');
    s.emit({ type: 'pull-progress', pull: progress('pull_1', 'downloading') });
    expect(m.pull?.bytesDone).toBe(1024);
    s.emit({ type: 'pull-progress', pull: progress('pull_1', 'done', { pack: 'tiny-sd', bytesDone: 4096 }) });
    await flush();
    expect(m.pulling).toBe(false);
    expect(m.summary).toBeNull();
    expect(reloads).toBe(1);
    expect(notices.current).toEqual({ kind: 'info', text: 'Installed "tiny-sd" from acme/tiny-sd; it is in your tools.' });
  });

  it('follows a pull the broker runs for another page while it has none of its own (a reload mid-pull)', async () => {
    let reloads = 0;
    const notices = new Notices();
    const s = scriptedApi({});
    const adopted = new ModelsState(s.api, notices, async () => void reloads++);
    expect(adopted.pull).toBeNull();
    s.emit({ type: 'pull-progress', pull: progress('pull_9', 'downloading') });
    expect(adopted.pulling).toBe(true);
    s.emit({ type: 'pull-progress', pull: progress('pull_9', 'done', { pack: 'tiny-sd' }) });
    await flush();
    expect(reloads).toBe(1);
    expect(notices.current?.text).toBe('Installed "tiny-sd" from acme/tiny-sd; it is in your tools.');
  });

  it('cancels its pull and says nothing was installed; a failed pull says why', async () => {
    const cancelled: unknown[] = [];
    const s = scriptedApi({
      describeHubRepo: async () => ok({ ...SUMMARY, mustAccept: null }),
      startPull: async () => ok({ pullId: 'pull_2' }),
      cancelPull: async (req) => (cancelled.push(req), ok({ cancelled: true })),
    });
    const notices = new Notices();
    const m = new ModelsState(s.api, notices, async () => {});
    await m.lookUp('acme/tiny-sd');
    expect(await m.startPull(false)).toBe(true);
    await m.cancelPull();
    expect(cancelled).toEqual([{ pullId: 'pull_2' }]);
    s.emit({ type: 'pull-progress', pull: progress('pull_2', 'cancelled', { error: { code: 'cancelled', message: 'Pull of acme/tiny-sd cancelled; nothing was installed.' } }) });
    await flush();
    expect(notices.current).toEqual({ kind: 'info', text: 'Pull of acme/tiny-sd cancelled; nothing was installed.' });
    expect(await m.startPull(false)).toBe(true);
    s.emit({ type: 'pull-progress', pull: progress('pull_2', 'failed', { error: { code: 'stalled', message: 'the Hub sent nothing for 30 s' } }) });
    await flush();
    expect(notices.current).toEqual({ kind: 'error', text: 'Could not pull acme/tiny-sd: the Hub sent nothing for 30 s' });
  });

  it('removes and verifies packs, reloading the list after a removal, and reports refusals', async () => {
    const s = scriptedApi({
      removePack: async (req) => (req.name === 'codi-restore' ? { ok: false, error: { code: 'forbidden', message: '"codi-restore" is a bundled pack' } } : ok({ removed: req.name })),
      verifyPack: async (req) => ok({ name: req.name, ok: false, problems: ['"unet/model.onnx" failed its checksum'], repaired: [] }),
    });
    let reloads = 0;
    const notices = new Notices();
    const m = new ModelsState(s.api, notices, async () => void reloads++);
    await m.verify('tiny-sd');
    expect(m.checks['tiny-sd']?.ok).toBe(false);
    expect(notices.current).toEqual({ kind: 'error', text: '"tiny-sd" has 1 problem(s): "unet/model.onnx" failed its checksum' });
    await m.remove('codi-restore');
    expect(notices.current).toEqual({ kind: 'error', text: 'Could not remove "codi-restore": "codi-restore" is a bundled pack' });
    expect(reloads).toBe(0);
    await m.remove('tiny-sd');
    expect(reloads).toBe(1);
    expect(m.checks['tiny-sd']).toBeUndefined();
    expect(notices.current?.text).toBe('Removed "tiny-sd".');
  });

  it('sets the token and keeps only whether it is set; says when it is not saved', async () => {
    const settings = (set: boolean): HubSettings => ({ endpoint: 'https://huggingface.co', endpointSource: 'default', token: { set, source: set ? 'settings' : null }, tokenStorage: 'session' });
    const sent: unknown[] = [];
    const s = scriptedApi({ setHubSettings: async (req) => (sent.push(req), ok(settings(req.token !== null))) });
    const notices = new Notices();
    const m = new ModelsState(s.api, notices, async () => {});
    expect(await m.setToken('hf_abc123456')).toBe(true);
    expect(sent).toEqual([{ token: 'hf_abc123456' }]);
    expect(m.settings?.token).toEqual({ set: true, source: 'settings' });
    expect(JSON.stringify(m.settings)).not.toContain('hf_abc');
    expect(notices.current?.text).toBe('Hub token set for this session only (not saved).');
    await m.setToken(null);
    expect(m.settings?.token.set).toBe(false);
  });
});

describe('progress wording', () => {
  it('formats bytes, ETA and the progress line', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(2_040_109_465)).toBe('1.9 GiB');
    expect(formatEta(null)).toBe('–');
    expect(formatEta(42)).toBe('42 s');
    expect(formatEta(600)).toBe('10 min');
    expect(formatEta(7500)).toBe('2 h 5 min');
    expect(pullLine(progress('pull_1', 'downloading'))).toBe('downloading · 1.0 KiB of 4.0 KiB · 512 B/s · 6 s left');
    expect(pullLine(progress('pull_1', 'verifying'))).toBe('verifying · 1.0 KiB of 4.0 KiB');
  });
});
