/**
 * The model manager: packs pulled from the Hugging Face Hub (or a mirror), removed and verified,
 * and the Hub's address and access token. The broker serves these (network and file work, not
 * inference); the installed packs themselves are listed by listPacks (schemas/packs.ts).
 */
import { z } from 'zod';
import { packName } from './common.ts';

/** `owner/name` or `owner/name@revision`, as the Hub spells repo ids (letters, digits, - _ .). */
export const hubRepoSpec = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}(@[A-Za-z0-9][A-Za-z0-9._/-]{0,95})?$/, 'not a Hub repo id (owner/name[@revision])');
/** A file pattern of `--include` (a glob relative to the repo root). */
const includeGlob = z
  .string()
  .min(1)
  .max(200)
  .refine((g) => !g.includes('\0') && !g.split('/').includes('..'), 'a pattern must stay inside the repo');
export const pullId = z.string().regex(/^pull_[A-Za-z0-9_-]{1,64}$/, 'not a pull id');

/** How a repo is gated on the Hub: false = open, 'auto' / 'manual' = access must be requested first. */
export const hubGated = z.union([z.literal(false), z.enum(['auto', 'manual'])]);

export const describeHubRepoRequest = z.object({ repo: hubRepoSpec }).strict();
/** What the user sees before anything is downloaded. */
export const hubRepoSummary = z.object({
  repo: z.string(),
  /** The commit the pull will fetch. */
  revision: z.string(),
  /** SPDX id or the name the repo card gives; null = the repo states none. */
  licence: z.string().nullable(),
  gated: hubGated,
  pipelineTag: z.string().nullable(),
  /** The files a pull would fetch (the pack's part of the repo), with their sizes. */
  files: z.array(z.object({ path: z.string(), size: z.number().int().nonnegative() })).max(10_000),
  bytesTotal: z.number().int().nonnegative(),
  /** Why the pull needs the user's acceptance (a gated repo, a licence that is not a permissive one); null = it does not. */
  mustAccept: z.string().max(1000).nullable(),
  /** Whether a Hub token is set (gated repos need one). */
  tokenSet: z.boolean(),
});
export type HubRepoSummary = z.infer<typeof hubRepoSummary>;

export const startPullRequest = z
  .object({
    repo: hubRepoSpec,
    /** Pack name; default: derived from the repo name. */
    name: packName.optional(),
    include: z.array(includeGlob).max(32).optional(),
    /** The user accepted the repo's licence (and, for a gated repo, its conditions); recorded in the pack. */
    acceptLicence: z.boolean().default(false),
  })
  .strict();
export const startPullResponse = z.object({ pullId });
export const cancelPullRequest = z.object({ pullId }).strict();
export const cancelPullResponse = z.object({ cancelled: z.boolean() });

export const pullPhase = z.enum(['resolving', 'downloading', 'verifying', 'installing', 'done', 'failed', 'cancelled']);
export type PullPhase = z.infer<typeof pullPhase>;
/** Why a pull stopped (the Hub client's error kinds). */
export const pullErrorCode = z.enum([
  'not-found',
  'gated',
  'unauthorized',
  'licence-not-accepted',
  'stalled',
  'network',
  'checksum',
  'disk-space',
  'unsafe-path',
  'not-a-pack',
  'cancelled',
  'exists',
  'io',
]);
export type PullErrorCode = z.infer<typeof pullErrorCode>;

/** Pushed on the event channel as {type: 'pull-progress', pull}. */
export const pullProgress = z.object({
  pullId,
  repo: z.string(),
  phase: pullPhase,
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  /** The file being fetched now. */
  file: z.string().optional(),
  /** Set once installed (phase 'done'). */
  pack: z.string().optional(),
  /** Set when the pull failed or was cancelled. */
  error: z.object({ code: pullErrorCode, message: z.string().max(4000) }).optional(),
});
export type PullProgress = z.infer<typeof pullProgress>;

export const removePackRequest = z.object({ name: packName }).strict();
export const removePackResponse = z.object({ removed: z.string() });

export const verifyPackRequest = z
  .object({
    name: packName,
    /** Fetch the files that fail again from the pack's source repo (at its recorded revision). */
    repair: z.boolean().default(false),
  })
  .strict();
export const verifyPackResponse = z.object({
  name: z.string(),
  ok: z.boolean(),
  /** One line per file that is missing, of the wrong size or the wrong sha256. */
  problems: z.array(z.string().max(2000)).max(1000),
  /** Files fetched again (repair). */
  repaired: z.array(z.string()).max(1000),
});
export type VerifyPackResponse = z.infer<typeof verifyPackResponse>;

/** Where the token came from; it never travels back to the renderer. */
export const hubTokenSource = z.enum(['settings', 'env']);
export const hubSettings = z.object({
  /** The Hub's base URL (a mirror, or the tests' mock Hub). */
  endpoint: z.string(),
  endpointSource: z.enum(['settings', 'env', 'default']),
  /** Only whether a token is set and where from: the token itself is never sent. */
  token: z.object({ set: z.boolean(), source: hubTokenSource.nullable() }),
  /**
   * Where a token set here is kept: 'keychain' (the OS keychain through Electron's safeStorage,
   * kept across restarts) or 'session' (the broker's memory, gone when the app closes).
   */
  tokenStorage: z.enum(['keychain', 'session']),
});
export type HubSettings = z.infer<typeof hubSettings>;
export const getHubSettingsRequest = z.object({}).strict();
const hubUrl = z
  .string()
  .max(2000)
  .refine((u) => {
    try {
      const p = new URL(u).protocol;
      return p === 'https:' || p === 'http:';
    } catch {
      return false;
    }
  }, 'not an http(s) URL');
export const setHubSettingsRequest = z
  .object({
    /** null = back to HF_ENDPOINT or the public Hub. */
    endpoint: hubUrl.nullable().optional(),
    /** null = forget the token set here (HF_TOKEN, if set, applies again). */
    token: z
      .string()
      .min(1)
      .max(1000)
      .regex(/^[\x21-\x7e]+$/, 'a token is printable ASCII without spaces')
      .nullable()
      .optional(),
  })
  .strict();
