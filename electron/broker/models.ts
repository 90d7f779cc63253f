/**
 * The model manager on the broker side: pulls packs from the Hugging Face Hub (or the mirror the
 * settings name), removes and verifies user packs, and keeps the Hub's address and token
 * (hub-settings.ts). Pulling is network and file work, not inference, so it runs here and not in
 * the engine process; when a pack is installed or removed the engine rescans its folders, so the
 * tool list changes without a restart. Nothing is fetched unless the user asks.
 *
 * The Hub client itself (listing, resumable downloads, checks, atomic install) is electron/hub;
 * this module runs it per request, turns its progress into throttled events and its errors into
 * the contract's, and keeps the token out of everything it says.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fail, ok, serve } from '../contract/api.ts';
import type { Result, ServerHandlers } from '../contract/api.ts';
import type { ChannelOf } from '../contract/channels.ts';
import type { CodiEvent, HubRepoSummary, ParsedRequestOf, PullErrorCode, PullProgress, VerifyPackResponse } from '../contract/schemas.ts';
import type { PackCheck } from '../hub/packs.ts';
import type { HubErrorCode, HubOptions, PullOptions, PullProgress as HubProgress, PullResult, RepoInfo } from '../hub/types.ts';
import { HubError } from '../hub/types.ts';
import { redactToken } from './hub-settings.ts';
import type { HubConfig } from './hub-settings.ts';

/** The Hub client calls the manager makes (electron/hub; tests pass a double). */
export interface HubClient {
  describeRepo(repoSpec: string, opts: HubOptions): Promise<RepoInfo>;
  /** The files of a listing a pull would fetch (the pack's part of the repo). */
  selectFiles(info: RepoInfo, include?: string[]): RepoInfo['files'];
  /** Why pulling the repo needs the user's acceptance of its licence or gate (the rule pullPack enforces); null = it does not. */
  mustAccept(info: RepoInfo): string | null;
  pullPack(repoSpec: string, opts: PullOptions): Promise<PullResult>;
  verifyPack(packDir: string, opts: HubOptions & { repair: boolean }): Promise<PackCheck>;
  removePack(packsDir: string, name: string): Promise<void>;
}

export interface ModelsOptions {
  /** Where pulled packs are installed: the user packs folder (the only one remove touches). */
  userPacksDir: string;
  /** The bundled packs folder: its packs are listed but cannot be removed. */
  bundledPacksDir: string;
  config: HubConfig;
  hub: HubClient;
  publish: (e: CodiEvent) => void;
  /** Make the engine rescan its pack folders. */
  rescanPacks: () => Promise<void>;
  /** Passed to the Hub client (tests shorten it). */
  stallTimeoutMs?: number;
  /** Least time between two progress events of one pull (phase changes always go out). */
  progressEveryMs?: number;
}

interface LivePull {
  id: string;
  repo: string;
  controller: AbortController;
  last: PullProgress;
  lastSentAt: number;
  done: Promise<void>;
}

/** The contract's code for each Hub error kind (a kind the Hub client adds fails to compile here). */
const PULL_CODE: Record<HubErrorCode, PullErrorCode> = {
  'not-found': 'not-found',
  gated: 'gated',
  unauthorized: 'unauthorized',
  'licence-not-accepted': 'licence-not-accepted',
  stalled: 'stalled',
  network: 'network',
  checksum: 'checksum',
  'disk-space': 'disk-space',
  'unsafe-path': 'unsafe-path',
  'not-a-pack': 'not-a-pack',
  cancelled: 'cancelled',
  exists: 'exists',
};

export class ModelManager {
  private readonly pulls = new Map<string, LivePull>();

  constructor(private readonly opts: ModelsOptions) {}

  /** The model-manager channels of the contract's table, each taking its validated request. */
  readonly handlers: ServerHandlers<'models'> = {
    describeHubRepo: (req) => this.guarded(() => this.describe(req.repo)),
    startPull: (req) => this.guarded(async () => this.start(req)),
    cancelPull: (req) => this.guarded(async () => this.cancel(req.pullId)),
    removePack: (req) => this.guarded(() => this.remove(req.name)),
    verifyPack: (req) => this.guarded(() => this.verify(req.name, req.repair)),
    getHubSettings: () => this.guarded(async () => ok(await this.opts.config.describe())),
    setHubSettings: (req) => this.guarded(async () => ok(await this.opts.config.update(req))),
  };

  handle(channel: ChannelOf<'models'>, payload: unknown): Promise<Result<unknown>> {
    return serve(this.handlers, channel, payload);
  }

  /** A failing Hub call or file operation is an error the user can read, with the token taken out. */
  private async guarded<T>(fn: () => Promise<Result<T>>): Promise<Result<T>> {
    try {
      return await fn();
    } catch (err) {
      const token = (await this.opts.config.token().catch(() => null))?.value;
      const message = redactToken((err as Error).message, token);
      if (err instanceof HubError) return fail(err.code === 'not-found' ? 'not-found' : err.code === 'exists' ? 'exists' : err.code === 'cancelled' ? 'cancelled' : 'io', message);
      return fail('io', message);
    }
  }

  private async hubOptions(signal?: AbortSignal): Promise<HubOptions & { token?: string }> {
    const [endpoint, token] = await Promise.all([this.opts.config.endpoint(), this.opts.config.token()]);
    return {
      baseUrl: endpoint.url,
      ...(token ? { token: token.value } : {}),
      ...(this.opts.stallTimeoutMs !== undefined ? { stallTimeoutMs: this.opts.stallTimeoutMs } : {}),
      ...(signal ? { signal } : {}),
    };
  }

  private async describe(repo: string): Promise<Result<HubRepoSummary>> {
    const hubOpts = await this.hubOptions();
    const info = await this.opts.hub.describeRepo(repo, hubOpts);
    const files = this.opts.hub.selectFiles(info).map((f) => ({ path: f.path, size: f.size }));
    return ok({
      repo: info.repo,
      revision: info.revision,
      licence: info.licence,
      gated: info.gated,
      pipelineTag: info.pipelineTag ?? null,
      files,
      bytesTotal: files.reduce((s, f) => s + f.size, 0),
      mustAccept: this.opts.hub.mustAccept(info),
      tokenSet: hubOpts.token !== undefined,
    });
  }

  private start(req: ParsedRequestOf<'startPull'>): Result<{ pullId: string }> {
    const repo = req.repo.split('@')[0] ?? req.repo;
    for (const p of this.pulls.values()) if (p.repo === repo) return fail('busy', `${repo} is already being pulled`);
    const id = `pull_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    const controller = new AbortController();
    const pull: LivePull = {
      id,
      repo,
      controller,
      last: { pullId: id, repo, phase: 'resolving', bytesDone: 0, bytesTotal: 0, bytesPerSecond: 0, etaSeconds: null },
      lastSentAt: 0,
      done: Promise.resolve(),
    };
    this.pulls.set(id, pull);
    this.send(pull, pull.last, true);
    pull.done = this.run(pull, req);
    return ok({ pullId: id });
  }

  private async run(pull: LivePull, req: ParsedRequestOf<'startPull'>): Promise<void> {
    let token: string | undefined;
    try {
      const hubOpts = await this.hubOptions(pull.controller.signal);
      token = hubOpts.token;
      // cancelled before the download began
      if (pull.controller.signal.aborted) throw new HubError('cancelled', 'cancelled');
      const result = await this.opts.hub.pullPack(req.repo, {
        ...hubOpts,
        packsDir: this.opts.userPacksDir,
        acceptLicence: req.acceptLicence,
        ...(req.name ? { name: req.name } : {}),
        ...(req.include ? { include: req.include } : {}),
        onProgress: (p) => this.onProgress(pull, p),
      });
      // rescan before saying done, so the UI's next listPacks already shows the tool
      await this.opts.rescanPacks().catch(() => {});
      this.send(pull, { ...pull.last, phase: 'done', bytesDone: result.bytes, bytesTotal: result.bytes, etaSeconds: 0, pack: result.name }, true);
    } catch (err) {
      const cancelled = pull.controller.signal.aborted || (err instanceof HubError && err.code === 'cancelled');
      const code: PullErrorCode = cancelled ? 'cancelled' : err instanceof HubError ? PULL_CODE[err.code] : 'io';
      const message = cancelled ? `Pull of ${pull.repo} cancelled; nothing was installed.` : redactToken((err as Error).message, token);
      this.send(pull, { ...pull.last, phase: cancelled ? 'cancelled' : 'failed', bytesPerSecond: 0, etaSeconds: null, error: { code, message } }, true);
    } finally {
      this.pulls.delete(pull.id);
    }
  }

  private onProgress(pull: LivePull, p: HubProgress): void {
    const next: PullProgress = {
      pullId: pull.id,
      repo: pull.repo,
      // 'done' is said by run(), after the engine has rescanned
      phase: p.phase === 'done' ? 'installing' : p.phase,
      bytesDone: p.bytesDone,
      bytesTotal: p.bytesTotal,
      bytesPerSecond: p.bytesPerSecond,
      etaSeconds: p.etaSeconds,
      ...(p.file ? { file: p.file } : {}),
    };
    this.send(pull, next, next.phase !== pull.last.phase);
  }

  private send(pull: LivePull, progress: PullProgress, force: boolean): void {
    pull.last = progress;
    const now = Date.now();
    if (!force && now - pull.lastSentAt < (this.opts.progressEveryMs ?? 250)) return;
    pull.lastSentAt = now;
    this.opts.publish({ type: 'pull-progress', pull: progress });
  }

  private async cancel(pullId: string): Promise<Result<{ cancelled: boolean }>> {
    const pull = this.pulls.get(pullId);
    if (!pull) return fail('not-found', `no pull ${pullId} is running`);
    pull.controller.abort();
    // answer once the pull has stopped and cleaned up, so "cancelled" means nothing is left
    await pull.done;
    return ok({ cancelled: true });
  }

  /** The folder of an installed user pack; bundled packs are refused by name. */
  private userPack(name: string): Result<string> {
    const dir = path.join(this.opts.userPacksDir, name);
    if (existsSync(path.join(dir, 'manifest.json'))) return ok(dir);
    if (existsSync(path.join(this.opts.bundledPacksDir, name, 'manifest.json'))) return fail('forbidden', `"${name}" is a bundled pack; bundled packs cannot be removed or changed`);
    return fail('not-found', `no user pack named "${name}" is installed`);
  }

  private async remove(name: string): Promise<Result<{ removed: string }>> {
    const dir = this.userPack(name);
    if (!dir.ok) return dir;
    await this.opts.hub.removePack(this.opts.userPacksDir, name);
    await this.opts.rescanPacks().catch(() => {});
    return ok({ removed: name });
  }

  /** Any installed pack can be checked; only a user pack can be repaired (bundled ones are part of the app). */
  private async verify(name: string, repair: boolean): Promise<Result<VerifyPackResponse>> {
    let dir = this.userPack(name);
    if (!dir.ok && dir.error.code === 'forbidden' && !repair) dir = ok(path.join(this.opts.bundledPacksDir, name));
    if (!dir.ok) return dir;
    const check = await this.opts.hub.verifyPack(dir.value, { ...(await this.hubOptions()), repair });
    if (check.repaired.length > 0) await this.opts.rescanPacks().catch(() => {});
    return ok({ name, ok: check.ok, problems: check.problems, repaired: check.repaired });
  }

  /** Stop every pull (app shutdown); their partial downloads stay for a later resume. */
  async shutdown(): Promise<void> {
    const running = [...this.pulls.values()];
    for (const p of running) p.controller.abort();
    await Promise.all(running.map((p) => p.done));
  }
}
