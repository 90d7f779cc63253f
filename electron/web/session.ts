/**
 * Web mode's access secret. Origin and Host checks stop other web pages, but any local process
 * (another account on a shared machine included) can forge those headers, so every HTTP request
 * and the WebSocket handshake must also carry a secret that only the user was shown: a random
 * token printed once in the start URL, which the first page load trades for an HttpOnly cookie.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

/** 256 bits; base64url so it travels in a URL path and a cookie without escaping. */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** URL path prefix that carries the token on the first load: /token/<token>/ */
export const TOKEN_PATH_PREFIX = '/token/';

/**
 * The start URL. The token sits in the path, not the query, so a caller that appends its own
 * query (`${url}?autosaveMs=…`) still sends a token the server recognises.
 */
export function tokenUrl(port: number, token: string): string {
  return `http://127.0.0.1:${port}${TOKEN_PATH_PREFIX}${token}/`;
}

/**
 * One cookie per port: cookies ignore ports, so two servers on one machine would otherwise
 * overwrite each other's session in the same browser.
 */
export function sessionCookieName(port: number): string {
  return `codi_session_${port}`;
}

export function sessionCookie(port: number, token: string): string {
  // No Max-Age: the cookie lives as long as the browser session; the printed URL works again.
  return `${sessionCookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

/**
 * Constant-time comparison that does not leak the length either: both sides are hashed to a
 * fixed size before timingSafeEqual (which throws on differing lengths).
 */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Values of every cookie called `name` in a Cookie header (a browser may send duplicates). */
function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** Whether the request carries the session cookie with the right token. */
export function hasSessionCookie(req: http.IncomingMessage, port: number, token: string): boolean {
  let ok = false;
  // Check every candidate (no early exit) so timing says nothing about which one matched.
  for (const value of cookieValues(req.headers.cookie, sessionCookieName(port))) ok = tokensEqual(value, token) || ok;
  return ok;
}

/**
 * For a request to /token/<token>[/…]: the token it carries (right or wrong) and where to send
 * the browser afterwards (the root, keeping the query). Null for every other path.
 */
export function tokenExchange(url: string): { token: string; location: string } | null {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://x');
  } catch {
    return null;
  }
  if (!parsed.pathname.startsWith(TOKEN_PATH_PREFIX)) return null;
  const token = parsed.pathname.slice(TOKEN_PATH_PREFIX.length).split('/')[0] ?? '';
  // Always the root: a path taken from the request could be `//elsewhere` (an open redirect).
  return { token, location: `/${parsed.search}` };
}
