/**
 * The Models panel's state: the Hub settings (address, whether a token is set), looking a repo
 * up before pulling it, the pull in progress (bytes, speed, ETA; cancel), and removing or
 * verifying installed packs. The installed packs themselves are the engine session's list;
 * after a pull or removal the broker has had the engine rescan, so reloading that list shows it.
 */
import type { CodiApi, HubRepoSummary, HubSettings, PullProgress, VerifyPackResponse } from '../engine-client/index.ts';
import type { Notices } from './notices.svelte.ts';

/** Byte counts as people read them (binary units, as file managers on Linux and Windows show them). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** An ETA in seconds as "12 s", "4 min", "2 h 5 min"; '–' while unknown. */
export function formatEta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '–';
  if (s < 90) return `${Math.max(0, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** One line of a pull's progress: "12 MiB of 1.9 GiB · 4.2 MiB/s · 7 min left". */
export function pullLine(p: PullProgress): string {
  const parts = [p.bytesTotal > 0 ? `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}` : formatBytes(p.bytesDone)];
  if (p.phase === 'downloading') parts.push(`${formatBytes(p.bytesPerSecond)}/s`, `${formatEta(p.etaSeconds)} left`);
  return `${p.phase} · ${parts.join(' · ')}`;
}

export class ModelsState {
  readonly #api: CodiApi;
  readonly #notices: Notices;
  readonly #reloadPacks: () => Promise<void>;
  readonly #off: () => void;

  settings = $state.raw<HubSettings | null>(null);
  /** The repo looked up last (shown before a pull starts). */
  summary = $state.raw<HubRepoSummary | null>(null);
  looking = $state(false);
  /** The pull in progress, or the last one (kept to show how it ended). */
  pull = $state.raw<PullProgress | null>(null);
  /** The last verification of each pack, by name. */
  checks = $state.raw<Record<string, VerifyPackResponse>>({});
  /** A pack being removed or verified now. */
  busyPack = $state<string | null>(null);

  constructor(api: CodiApi, notices: Notices, reloadPacks: () => Promise<void>) {
    this.#api = api;
    this.#notices = notices;
    this.#reloadPacks = reloadPacks;
    this.#off = api.onEvent((e) => {
      // its own pull, or, while none runs here, one the broker is running for another page (this
      // page was reloaded mid-pull, or a second tab started it): the broker pulls one repo at a time
      if (e.type === 'pull-progress' && (this.pull?.pullId === e.pull.pullId || !this.pulling)) void this.#onProgress(e.pull);
    });
  }

  dispose(): void {
    this.#off();
  }

  get pulling(): boolean {
    const phase = this.pull?.phase;
    return phase !== undefined && phase !== 'done' && phase !== 'failed' && phase !== 'cancelled';
  }

  async loadSettings(): Promise<void> {
    const r = await this.#api.getHubSettings({});
    if (r.ok) this.settings = r.value;
    else this.#notices.failed(r.error, 'read the model settings');
  }

  /** Look a repo up: its licence, gating and size, before anything is downloaded. */
  async lookUp(repo: string): Promise<boolean> {
    this.summary = null;
    this.looking = true;
    const r = await this.#api.describeHubRepo({ repo: repo.trim() });
    this.looking = false;
    if (!r.ok) {
      this.#notices.failed(r.error, `look up ${repo.trim()}`);
      return false;
    }
    this.summary = r.value;
    return true;
  }

  /** Pull the repo looked up; `accepted` = the user accepted its licence / gate where that is asked. */
  async startPull(accepted: boolean, name?: string): Promise<boolean> {
    const s = this.summary;
    if (!s || this.pulling) return false;
    if (s.mustAccept !== null && !accepted) {
      this.#notices.error(`Accept the licence of ${s.repo} first: ${s.mustAccept}.`);
      return false;
    }
    const r = await this.#api.startPull({ repo: `${s.repo}@${s.revision}`, acceptLicence: accepted, ...(name ? { name } : {}) });
    if (!r.ok) {
      this.#notices.failed(r.error, `pull ${s.repo}`);
      return false;
    }
    // its first events may have come before this answer
    if (this.pull?.pullId !== r.value.pullId) this.pull = { pullId: r.value.pullId, repo: s.repo, phase: 'resolving', bytesDone: 0, bytesTotal: s.bytesTotal, bytesPerSecond: 0, etaSeconds: null };
    this.#notices.info(`Pulling ${s.repo}…`);
    return true;
  }

  async cancelPull(): Promise<void> {
    const p = this.pull;
    if (!p || !this.pulling) return;
    const r = await this.#api.cancelPull({ pullId: p.pullId });
    // not-found: it ended meanwhile; its own event says how
    if (!r.ok && r.error.code !== 'not-found') this.#notices.failed(r.error, `cancel the pull of ${p.repo}`);
  }

  async #onProgress(p: PullProgress): Promise<void> {
    this.pull = p;
    if (p.phase === 'done') {
      // the look-up has served its purpose: a second Pull would only be refused as installed
      if (this.summary?.repo === p.repo) this.summary = null;
      await this.#reloadPacks();
      this.#notices.info(`Installed "${p.pack ?? p.repo}" from ${p.repo}; it is in your tools.`);
    } else if (p.phase === 'cancelled') {
      // the broker's wording: it knows what was left behind
      this.#notices.info(p.error?.message ?? `Pull of ${p.repo} cancelled.`);
    } else if (p.phase === 'failed') {
      this.#notices.error(`Could not pull ${p.repo}: ${p.error?.message ?? 'unknown error'}`);
    }
  }

  async remove(name: string): Promise<void> {
    this.busyPack = name;
    const r = await this.#api.removePack({ name });
    this.busyPack = null;
    if (!r.ok) {
      this.#notices.failed(r.error, `remove "${name}"`);
      return;
    }
    const { [name]: _dropped, ...rest } = this.checks;
    this.checks = rest;
    await this.#reloadPacks();
    this.#notices.info(`Removed "${name}".`);
  }

  async verify(name: string, repair = false): Promise<void> {
    this.busyPack = name;
    const r = await this.#api.verifyPack({ name, repair });
    this.busyPack = null;
    if (!r.ok) {
      this.#notices.failed(r.error, `${repair ? 'repair' : 'verify'} "${name}"`);
      return;
    }
    this.checks = { ...this.checks, [name]: r.value };
    if (r.value.repaired.length > 0) await this.#reloadPacks();
    if (r.value.ok) this.#notices.info(r.value.repaired.length > 0 ? `Repaired "${name}" (${r.value.repaired.length} file(s) fetched again).` : `"${name}" is intact.`);
    else this.#notices.error(`"${name}" has ${r.value.problems.length} problem(s): ${r.value.problems[0] ?? ''}`);
  }

  /** Set (a string) or forget (null) the Hub token; it is never read back, only whether one is set. */
  async setToken(token: string | null): Promise<boolean> {
    const r = await this.#api.setHubSettings({ token });
    if (!r.ok) {
      this.#notices.failed(r.error, token === null ? 'clear the Hub token' : 'set the Hub token');
      return false;
    }
    this.settings = r.value;
    this.#notices.info(token === null ? 'Hub token cleared.' : r.value.tokenStorage === 'keychain' ? 'Hub token set (kept in the system keychain).' : 'Hub token set for this session only (not saved).');
    return true;
  }

  /** Point the manager at another Hub address (a mirror); null = back to HF_ENDPOINT or the public Hub. */
  async setEndpoint(endpoint: string | null): Promise<boolean> {
    const r = await this.#api.setHubSettings({ endpoint });
    if (!r.ok) {
      this.#notices.failed(r.error, 'change the Hub address');
      return false;
    }
    this.settings = r.value;
    return true;
  }
}
