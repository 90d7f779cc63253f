/**
 * The Hub model manager: pulls diffusers ONNX packs from the Hugging Face Hub (or a mirror, or
 * the tests' mock Hub) into the user packs folder, and removes or re-checks installed packs.
 * Network and files stay on the electron side; nothing here runs unless the user asks.
 *
 * Provenance lands in the pack's manifest as `source` (core/packs/manifest.ts PackSource: repo,
 * revision, licence, gating, when the licence was accepted) and in its MODEL_CARD.md.
 */
export { HubError } from './types.ts';
export type { HubErrorCode, HubFile, HubOptions, PackSource, Precision, PullOptions, PullProgress, PullResult, RepoInfo } from './types.ts';
export { describeRepo, parseRepoSpec } from './repo.ts';
export { licenceNeedsAcceptance, planPackFiles } from './select.ts';
export { packNameFor, pullPack } from './pull.ts';
export { removePack, verifyPack } from './packs.ts';
export type { PackCheck } from './packs.ts';
