/**
 * Shapes of the Hub model manager's public API (electron/hub/index.ts): what a repository
 * holds, how a pull reports progress and how it fails. Kept apart from the code so the app side
 * (IPC, Models panel) can import the types without the network code.
 */

/** One file of a Hub repository at a resolved commit. */
export interface HubFile {
  /** Repository-relative path, forward slashes. */
  path: string;
  size: number;
  /** sha256 of the content for LFS files (the Hub publishes it as the LFS oid); null for small files. */
  sha256: string | null;
}

export interface RepoInfo {
  /** owner/name as the Hub spells it. */
  repo: string;
  /** The commit the requested revision resolved to: every download names this commit. */
  revision: string;
  /** The model card's `license` (its `license_name` when that is "other"); null when none is declared. */
  licence: string | null;
  /** The Hub's gating: false, or how access is granted ('auto' on request, 'manual' by the authors). */
  gated: false | 'auto' | 'manual';
  files: HubFile[];
  pipelineTag?: string | null;
}

export interface PullProgress {
  phase: 'resolving' | 'downloading' | 'verifying' | 'installing' | 'done';
  bytesDone: number;
  bytesTotal: number;
  /** Smoothed over the last few seconds; 0 before the first bytes arrive. */
  bytesPerSecond: number;
  etaSeconds: number | null;
  /** The file being downloaded or verified, repository-relative. */
  file?: string;
}

export type HubErrorCode =
  | 'not-found'
  | 'gated'
  | 'unauthorized'
  | 'licence-not-accepted'
  | 'stalled'
  | 'network'
  | 'checksum'
  | 'disk-space'
  | 'unsafe-path'
  | 'not-a-pack'
  | 'cancelled'
  | 'exists';

/** A pull or listing problem worth showing to the user as is (never contains the token). */
export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export interface HubOptions {
  /** Hub origin; default HF_ENDPOINT from the environment, else https://huggingface.co. */
  baseUrl?: string;
  /** Access token for gated or private repos; sent only in the Authorization header to the Hub's own origin. */
  token?: string;
  /** A download that receives no byte for this long fails with code 'stalled' (partial kept). Default 30 s. */
  stallTimeoutMs?: number;
  /** Files downloaded at once. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Environment to read HF_ENDPOINT and the proxy variables from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export type Precision = 'fp32' | 'fp16';

export interface PullOptions extends HubOptions {
  /** The user packs folder the pack is installed into (`<packsDir>/<name>`). */
  packsDir: string;
  /** Pack name; default derived from the repository name. */
  name?: string;
  /** Globs (`*`, `**`, `?`) choosing the repository files instead of the diffusers-component default. */
  include?: string[];
  /** Which weights variant to take when a component has both (`model.onnx` / `model.fp16.onnx`). Default fp32. */
  precision?: Precision;
  /** The user accepted the licence shown to them (required for gated repos and non-permissive licences). */
  acceptLicence: boolean;
  onProgress?: (p: PullProgress) => void;
  /** Where downloads are staged and kept for resume; default `<packsDir>/.hub-staging` (same disk, so install is a rename). */
  stagingDir?: string;
  /** For a ControlNet repo: the installed pipeline pack (name in packsDir, or folder) it drives. */
  backbone?: string;
}

export interface PullResult {
  packDir: string;
  name: string;
  /** Bytes of the repository files the pack holds. */
  bytes: number;
  revision: string;
  /** A CoDi adapter: the backbone pack it is pinned to, installed with it or already there (reused). */
  backbone?: { name: string; reused: boolean };
}

/** Where an installed pack came from (manifest `source`, written by a pull). */
export type { PackSource } from '../../core/packs/manifest.ts';
