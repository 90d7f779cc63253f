/**
 * The link to the engine as the editor sees it: transport link, engine status, app info and
 * the installed packs (listed again whenever the engine becomes ready or the link reopens).
 */
import type { AppInfo, CodiApi, EngineConnection, EngineStatus, LinkState, ListPacksResponse, PackInfo } from '../engine-client/index.ts';
import type { Notices } from './notices.svelte.ts';

export class EngineSession {
  readonly api: CodiApi;
  readonly #notices: Notices;
  readonly #unsubs: (() => void)[];
  /** Called after every successful listing (the tool settings pick a default tool). */
  onPacks: (tools: PackInfo[]) => void = () => {};

  appInfo = $state.raw<AppInfo | null>(null);
  link = $state<LinkState>('open');
  status = $state.raw<EngineStatus>({ state: 'starting' });
  provider = $state.raw<ListPacksResponse['provider'] | null>(null);
  packs = $state.raw<PackInfo[]>([]);
  packsLoaded = $state(false);

  constructor(conn: EngineConnection, notices: Notices) {
    this.api = conn.api;
    this.#notices = notices;
    this.#unsubs = [
      conn.onLink((s) => {
        const was = this.link;
        this.link = s;
        if (s === 'open' && was !== 'open') void this.refresh();
      }),
      conn.api.onEvent((e) => {
        if (e.type !== 'engine-status') return;
        const before = this.status.state;
        this.status = e.status;
        if (e.status.state === 'ready' && before !== 'ready') void this.loadPacks();
      }),
    ];
  }

  dispose(): void {
    for (const u of this.#unsubs) u();
  }

  /** Packs the user can run (backbones are building blocks, not tools). */
  get tools(): PackInfo[] {
    return this.packs.filter((p) => p.task !== 'backbone');
  }

  async refresh(): Promise<void> {
    const info = await this.api.getAppInfo({});
    if (info.ok) this.appInfo = info.value;
    await this.loadPacks();
  }

  async loadPacks(): Promise<void> {
    const r = await this.api.listPacks({});
    if (!r.ok) {
      // While the server link is down the reconnect will list again; no need to alarm the user.
      if (this.link === 'open') this.#notices.failed(r.error, 'list the installed tools');
      return;
    }
    this.packs = r.value.packs;
    this.provider = r.value.provider;
    this.packsLoaded = true;
    // Listing succeeded, so the engine answers requests even if no status event came yet.
    if (this.status.state === 'starting') this.status = { state: 'ready', provider: r.value.provider.active };
    this.onPacks(this.tools);
  }
}
