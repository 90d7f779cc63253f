/**
 * The API the renderer calls. Electron's preload (`window.codi`) and the web-mode WebSocket
 * client implement this same interface; the renderer imports it with `import type` only.
 */
import type { ChannelName, ChannelOf, ChannelServer } from './channels.ts';
import { SCHEMAS } from './schemas.ts';
import type { CodiEvent, ErrorCode, ErrorInfo, RequestOf, ParsedRequestOf, ResponseOf } from './schemas.ts';

/** Success or a typed error; errors are data because Electron's invoke keeps only `message`. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

/** One method per channel: `(request) => Promise<Result<response>>`. */
export type CodiRequests = {
  [C in ChannelName]: (request: RequestOf<C>) => Promise<Result<ResponseOf<C>>>;
};

/**
 * What one server implements: a handler for exactly the channels the table assigns it (no
 * more, no fewer: the type is derived from CHANNEL_TABLE), each taking the validated request.
 */
export type ServerHandlers<S extends ChannelServer> = {
  [C in ChannelOf<S>]: (request: ParsedRequestOf<C>) => Promise<Result<ResponseOf<C>>>;
};

/** Validate an untrusted payload for one of a server's channels and run its handler. */
export async function serve<S extends ChannelServer>(handlers: ServerHandlers<S>, channel: ChannelOf<S>, payload: unknown): Promise<Result<unknown>> {
  const req = parseRequest(channel, payload);
  if (!req.ok) return req;
  const handler = handlers[channel] as (request: unknown) => Promise<Result<unknown>>;
  return handler(req.value);
}

/**
 * `window.codi` in Electron, the WebSocket client in web mode, EngineHost in the CLI.
 * Methods never throw for expected failures; they resolve to `{ok: false, error}`.
 */
export interface CodiApi extends CodiRequests {
  /** Subscribe to job progress / done / failed and engine status; returns the unsubscribe function. */
  onEvent(listener: (event: CodiEvent) => void): () => void;
}

/** Validate an untrusted payload for a channel; the error message names the first bad field. */
export function parseRequest<C extends ChannelName>(channel: C, payload: unknown): Result<ParsedRequestOf<C>> {
  const res = SCHEMAS[channel].request.safeParse(payload ?? {});
  if (res.success) return ok(res.data as ParsedRequestOf<C>);
  return fail('invalid-request', describeIssues(channel, res.error.issues));
}

/** Validate a response before it leaves a trusted process (catches engine bugs at the boundary). */
export function parseResponse<C extends ChannelName>(channel: C, value: unknown): Result<ResponseOf<C>> {
  const res = SCHEMAS[channel].response.safeParse(value);
  if (res.success) return ok(res.data as ResponseOf<C>);
  return fail('internal', `engine returned a malformed ${channel} response: ${describeIssues(channel, res.error.issues)}`);
}

function describeIssues(channel: string, issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const first = issues[0];
  if (!first) return `${channel}: invalid payload`;
  const where = first.path.length > 0 ? first.path.map(String).join('.') : '(payload)';
  return `${channel}: ${where}: ${first.message}`;
}
