/**
 * Messages between the broker (EngineHost) and the engine process. Structured clone carries
 * them (utilityProcess postMessage, or child_process with `serialization: 'advanced'`), so
 * Uint8Array pixels cross without copies into JSON. Requests reuse the contract's channels.
 */
import type { ChannelName } from '../contract/channels.ts';
import type { Result } from '../contract/api.ts';
import type { CodiEvent, ExecutionProvider } from '../contract/schemas.ts';

export type HostToEngine =
  | { type: 'request'; id: number; channel: ChannelName; payload: unknown }
  /** Re-open an image under a known id after a restart (the broker's ledger of opened files). */
  | { type: 'restore-image'; id: number; imageId: string; source: { path: string } | { bytes: Uint8Array; name?: string } }
  | { type: 'shutdown' };

export type EngineToHost =
  | { type: 'ready'; provider: ExecutionProvider; tried: string[]; pid: number }
  | { type: 'response'; id: number; result: Result<unknown> }
  | { type: 'event'; event: CodiEvent }
  /** A job began computing (the broker arms its watchdog). */
  | { type: 'job-running'; jobId: string };

/** Engine settings, passed as JSON in argv[2] (the same for utilityProcess and fork). */
export interface EngineConfig {
  /** Pack folders, bundled first. */
  packDirs: { path: string; source: 'bundled' | 'user' }[];
  /** Execution providers to try, in order (default: platform order). */
  providers?: ExecutionProvider[];
  /** Intra-op threads (default: logical cores). */
  threads?: number;
  /** Pixel-byte budget of the engine's image store. */
  imageBudgetBytes?: number;
  /** Largest image the decoder accepts, in pixels. */
  maxInputPixels?: number;
  /** Tile size override (pixels) for tests and low-memory machines. */
  maxTile?: number;
}

export function isEngineToHost(m: unknown): m is EngineToHost {
  const t = (m as { type?: unknown } | null)?.type;
  return t === 'ready' || t === 'response' || t === 'event' || t === 'job-running';
}
