/**
 * What a Hub repository holds at a revision, through the Hub's public HTTP API:
 *   GET /api/models/{repo}/revision/{rev}            → commit sha, card data (licence), gating
 *   GET /api/models/{repo}/tree/{sha}?recursive=true → files with sizes and LFS sha256 (paged by Link: rel="next")
 * Every later request names the resolved commit, so a branch moving during a pull cannot mix
 * files of two commits. Responses are untrusted: parsed with zod, and a listing with a path that
 * could leave the pack folder is refused as a whole.
 */
import { z } from 'zod';
import { packRelativePath } from '../../core/packs/manifest.ts';
import { hubClient, hubGet, refusal, urlPath } from './http.ts';
import type { HubClient } from './http.ts';
import { HubError } from './types.ts';
import type { HubFile, HubOptions, RepoInfo } from './types.ts';

const MAX_TREE_PAGES = 200;
const MAX_FILES = 100_000;

export interface RepoSpec {
  repo: string;
  revision: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** Parse `owner/repo[@revision]` (revision: a branch, tag or commit; default main). */
export function parseRepoSpec(spec: string): RepoSpec {
  const at = spec.indexOf('@');
  const repo = at < 0 ? spec.trim() : spec.slice(0, at).trim();
  const revision = at < 0 ? 'main' : spec.slice(at + 1).trim();
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => NAME.test(p) && !p.includes('..'))) {
    throw new HubError('not-found', `"${spec}" is not a Hub repository id (owner/name, optionally @revision)`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(revision) || revision.split('/').some((s) => s === '..' || s === '')) {
    throw new HubError('not-found', `"${revision}" is not a valid revision (a branch, tag or commit)`);
  }
  return { repo, revision };
}

const modelInfoSchema = z.object({
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  gated: z.union([z.literal(false), z.literal('auto'), z.literal('manual'), z.literal(true)]).optional(),
  pipeline_tag: z.string().nullable().optional(),
  tags: z.array(z.string()).optional(),
  cardData: z.record(z.string(), z.unknown()).nullable().optional(),
});

const treeEntrySchema = z.object({
  type: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative().optional(),
  lfs: z.object({ oid: z.string(), size: z.number().int().nonnegative() }).nullable().optional(),
});

/** The card's licence: `license` (first of a list), its `license_name` when it says "other", else the license: tag. */
function licenceOf(info: z.infer<typeof modelInfoSchema>): string | null {
  const card = info.cardData ?? {};
  const raw = Array.isArray(card.license) ? card.license[0] : card.license;
  if (typeof raw === 'string' && raw) {
    if (raw === 'other' && typeof card.license_name === 'string' && card.license_name) return card.license_name.slice(0, 200);
    return raw.slice(0, 200);
  }
  const tag = info.tags?.find((t) => t.startsWith('license:'));
  return tag ? tag.slice('license:'.length, 200) : null;
}

async function json(client: HubClient, url: string, repo: string, what: string, signal: AbortSignal | undefined): Promise<{ body: unknown; link: string | null }> {
  const res = await hubGet(client, url, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  if (!res.ok) throw await refusal(client, res, { repo, what });
  try {
    return { body: await res.json(), link: res.headers.get('link') };
  } catch {
    throw new HubError('network', `${client.origin} sent ${what} of "${repo}" that is not valid JSON`);
  }
}

/** The `rel="next"` URL of a Link header, when it stays on the Hub's origin. */
function nextPage(link: string | null, client: HubClient): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (!m) continue;
    const next = new URL(m[1] as string, client.base + '/');
    return next.origin === new URL(client.base).origin ? next.href : null;
  }
  return null;
}

/** Resolve a repository at a revision: commit, licence, gating and the file list. */
export async function describeRepo(repoSpec: string, opts: HubOptions): Promise<RepoInfo> {
  const spec = parseRepoSpec(repoSpec);
  const client = hubClient(opts);
  try {
    return await describeWith(client, spec, opts.signal);
  } finally {
    await client.close();
  }
}

export async function describeWith(client: HubClient, spec: RepoSpec, signal?: AbortSignal): Promise<RepoInfo> {
  const { repo } = spec;
  const infoUrl = `${client.base}/api/models/${repo}/revision/${urlPath(spec.revision)}`;
  const parsed = modelInfoSchema.safeParse((await json(client, infoUrl, repo, 'the repository information', signal)).body);
  if (!parsed.success) throw new HubError('network', `${client.origin} sent repository information for "${repo}" that is not in the Hub's format`);
  const info = parsed.data;
  const revision = info.sha;

  const files: HubFile[] = [];
  let url: string | null = `${client.base}/api/models/${repo}/tree/${urlPath(revision)}?recursive=true`;
  for (let page = 0; url; page++) {
    if (page >= MAX_TREE_PAGES) throw new HubError('network', `the file list of "${repo}" has more than ${MAX_TREE_PAGES} pages`);
    const { body, link } = await json(client, url, repo, 'the file list', signal);
    const entries = z.array(treeEntrySchema).safeParse(body);
    if (!entries.success) throw new HubError('network', `${client.origin} sent a file list for "${repo}" that is not in the Hub's format`);
    for (const e of entries.data) {
      if (e.type !== 'file') continue;
      if (!packRelativePath.safeParse(e.path).success) {
        throw new HubError('unsafe-path', `the file list of "${repo}" names "${e.path.slice(0, 200)}", a path that would leave the pack folder; nothing was downloaded`);
      }
      const sha256 = e.lfs && /^[0-9a-f]{64}$/.test(e.lfs.oid) ? e.lfs.oid : null;
      files.push({ path: e.path, size: e.lfs?.size ?? e.size ?? 0, sha256 });
      if (files.length > MAX_FILES) throw new HubError('network', `"${repo}" lists more than ${MAX_FILES} files`);
    }
    url = nextPage(link, client);
  }
  const gated = info.gated === true ? 'auto' : (info.gated ?? false);
  return { repo, revision, licence: licenceOf(info), gated, files, pipelineTag: info.pipeline_tag ?? null };
}
