/**
 * The Hub's HTTP layer: one place that knows the origin, the proxy, the token and how the Hub
 * says no. Node's built-in fetch ignores HTTPS_PROXY / HTTP_PROXY / NO_PROXY, so requests go
 * through undici's own fetch with its ProxyAgent, chosen per URL (a download is redirected to
 * another host, which NO_PROXY may name). undici's EnvHttpProxyAgent does the same but is marked
 * experimental and prints a warning on every run behind a proxy.
 *
 * The token goes in the Authorization header of requests to the Hub's own origin and nowhere
 * else: redirects are followed here (not by fetch) so that a redirect to another origin (the
 * Hub sends LFS downloads to a CDN with a signed URL) is made without it, and no message built
 * here contains a header.
 */
import { Agent, ProxyAgent, fetch } from 'undici';
import type { Dispatcher, Response } from 'undici';
import { HubError } from './types.ts';
import type { HubOptions } from './types.ts';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
const MAX_REDIRECTS = 5;

export interface HubClient {
  /** Hub origin with any path prefix, no trailing slash, no credentials (mirrors may live under a path). */
  readonly base: string;
  /** What messages name: scheme, host and port only. */
  readonly origin: string;
  readonly token: string | undefined;
  /** The direct agent, or a proxy, for this URL. */
  dispatcherFor(url: URL): Dispatcher;
  /** Close the connections (keep-alive sockets, proxy tunnels) once the work is done. */
  close(): Promise<void>;
}

/** The base URL: the option, else HF_ENDPOINT, else the public Hub. Refuses anything but http(s). */
export function hubBase(opts: Pick<HubOptions, 'baseUrl' | 'env'>): URL {
  const raw = opts.baseUrl ?? (opts.env ?? process.env).HF_ENDPOINT ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HubError('network', `"${raw}" is not a valid Hub URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HubError('network', `the Hub URL must be http(s), not ${url.protocol}`);
  // Credentials in the URL would end up in manifests and messages: the token option is the only way to authenticate.
  if (url.username || url.password) throw new HubError('network', 'the Hub URL must not contain a user name or password; use a token (HF_TOKEN)');
  return url;
}

const proxyVar = (env: NodeJS.ProcessEnv, name: string): string | undefined => env[name] || env[name.toLowerCase()] || undefined;

/**
 * Whether NO_PROXY exempts `url`, as curl reads it: entries separated by commas or spaces, `*`
 * for every host, `host` or `.host` (also `*.host`) for the host and its subdomains, with an
 * optional `:port`.
 */
export function noProxyMatches(noProxy: string | undefined, url: URL): boolean {
  if (!noProxy) return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    // [v6]:port, a bare IPv6 address (several colons, no port), or host:port.
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? (entry.split(':').length > 2 ? [entry, entry] : /^(.*?)(?::(\d+))?$/.exec(entry));
    const name = (m?.[1] ?? '').replace(/^\*?\./, '');
    if (!name || (m?.[2] && m[2] !== port)) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** Per-URL dispatch honouring HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case); direct when none is set. */
export function proxyRoutes(env: NodeJS.ProcessEnv): { dispatcherFor(url: URL): Dispatcher; close(): Promise<void> } {
  // Stalls are judged by the pull's own watchdog (stallTimeoutMs), so undici's timeouts are off.
  const timeouts = { headersTimeout: 0, bodyTimeout: 0 };
  const made: Dispatcher[] = [];
  const make = <T extends Dispatcher>(d: T): T => (made.push(d), d);
  let direct: Agent | undefined;
  const proxies = new Map<string, ProxyAgent>();
  const noProxy = proxyVar(env, 'NO_PROXY');
  return {
    dispatcherFor(url: URL): Dispatcher {
      const proxy = url.protocol === 'https:' ? proxyVar(env, 'HTTPS_PROXY') : proxyVar(env, 'HTTP_PROXY');
      if (!proxy || noProxyMatches(noProxy, url)) return (direct ??= make(new Agent(timeouts)));
      let agent = proxies.get(proxy);
      if (!agent) {
        let uri: URL;
        try {
          uri = new URL(proxy);
        } catch {
          // The variable's value may hold credentials: it is not repeated.
          throw new HubError('network', `the ${url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} setting is not a valid URL`);
        }
        agent = make(new ProxyAgent({ uri: uri.href, ...timeouts }));
        proxies.set(proxy, agent);
      }
      return agent;
    },
    async close(): Promise<void> {
      await Promise.all(made.map((d) => d.destroy()));
    },
  };
}

export function hubClient(opts: HubOptions): HubClient {
  const url = hubBase(opts);
  const base = url.href.replace(/\/+$/, '');
  const token = opts.token?.trim() || undefined;
  const routes = proxyRoutes(opts.env ?? process.env);
  return { base, origin: url.origin, token, dispatcherFor: (u) => routes.dispatcherFor(u), close: () => routes.close() };
}

/** `/`-joined path segments, each URL-encoded (a revision such as refs/pr/1 is one segment). */
export function urlPath(...segments: string[]): string {
  return segments.map(encodeURIComponent).join('/');
}

/**
 * GET `url`, following redirects by hand: the Authorization header only goes to the Hub's own
 * origin. Returns the final response (any status); network failures become HubError('network').
 */
export async function hubGet(client: HubClient, url: string, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
  let current = new URL(url);
  const hubOrigin = new URL(client.base).origin;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'codi-studio', ...init.headers };
    if (client.token && current.origin === hubOrigin) headers.authorization = `Bearer ${client.token}`;
    let res: Response;
    try {
      res = await fetch(current, { headers, redirect: 'manual', dispatcher: client.dispatcherFor(current), ...(init.signal ? { signal: init.signal } : {}) });
    } catch (err) {
      if (init.signal?.aborted) throw init.signal.reason instanceof Error ? init.signal.reason : new HubError('cancelled', 'cancelled');
      throw new HubError('network', `cannot reach ${current.origin}: ${networkReason(err)}`);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new HubError('network', `too many redirects from ${client.origin}`);
      current = new URL(location, current);
      if (current.protocol !== 'https:' && current.protocol !== 'http:') throw new HubError('network', `the Hub redirected to a ${current.protocol} URL`);
      continue;
    }
    return res;
  }
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

export interface RefusalContext {
  repo: string;
  /** What was asked for, for the message: "the file list", `"unet/model.onnx"`. */
  what: string;
}

/**
 * The HubError for a non-2xx answer. The Hub names the reason in X-Error-Code (RepoNotFound,
 * GatedRepo, RevisionNotFound, EntryNotFound); without it the status decides.
 */
export async function refusal(client: HubClient, res: Response, ctx: RefusalContext): Promise<HubError> {
  await res.body?.cancel();
  const code = res.headers.get('x-error-code') ?? '';
  const page = `${client.origin}/${ctx.repo}`;
  if (code === 'GatedRepo' || ((res.status === 401 || res.status === 403) && /gated|restricted/i.test(res.headers.get('x-error-message') ?? ''))) {
    return client.token
      ? new HubError('gated', `your Hugging Face account has not been granted access to "${ctx.repo}" yet: open ${page}, accept its conditions, then pull again`)
      : new HubError('gated', `"${ctx.repo}" is a gated repository: sign in at ${page}, accept its conditions, create an access token and set HF_TOKEN (or the app's Hub token), then pull again`);
  }
  if (code === 'RepoNotFound' || (res.status === 404 && !code)) {
    return new HubError('not-found', `"${ctx.repo}" was not found on ${client.origin}${client.token ? '' : ' (a private repository also needs a token: set HF_TOKEN)'}`);
  }
  if (code === 'RevisionNotFound') return new HubError('not-found', `"${ctx.repo}" has no such revision`);
  if (code === 'EntryNotFound') return new HubError('not-found', `${ctx.what} is not in "${ctx.repo}"`);
  if (res.status === 401) {
    return client.token
      ? new HubError('unauthorized', `${client.origin} refused the access token (401) for ${ctx.what}: check that HF_TOKEN is a valid token`)
      : new HubError('unauthorized', `${client.origin} needs an access token for ${ctx.what} (401): set HF_TOKEN`);
  }
  if (res.status === 403) return new HubError('unauthorized', `${client.origin} refused access to ${ctx.what} of "${ctx.repo}" (403)`);
  return new HubError('network', `${client.origin} answered ${res.status} ${res.statusText} for ${ctx.what} of "${ctx.repo}"`);
}
