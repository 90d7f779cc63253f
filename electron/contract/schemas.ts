/**
 * Zod schemas for every request, response and event of the contract. Every process that
 * receives a message from a less trusted one (main from the renderer, the web server from a
 * socket, the engine from the broker) parses it with these before acting on it.
 * Pixels are always `Uint8Array` (structured clone in Electron IPC, binary frames on the
 * WebSocket), never base64 in JSON.
 *
 * The schemas live by area in schemas/ (common pieces, app, packs, images, jobs, files, batch,
 * autosave, events, models; personal adapters in personal-schemas.ts); this module re-exports them and
 * holds the one table of each channel's request and response schema.
 */
import type { z } from 'zod';
import type { ChannelName } from './channels.ts';
import { PERSONAL_SCHEMAS } from './personal-schemas.ts';
import { appInfo, getAppInfoRequest, pickOpenPathRequest, pickPathResponse, pickSavePathRequest } from './schemas/app.ts';
import { clearAutosaveRequest, clearAutosaveResponse, readAutosaveRequest, readAutosaveResponse, writeAutosaveRequest, writeAutosaveResponse } from './schemas/autosave.ts';
import { batchControlRequest, batchControlResponse, startBatchRequest, startBatchResponse } from './schemas/batch.ts';
import { encodeImageRequest, encodeImageResponse, saveImageRequest, saveImageResponse } from './schemas/files.ts';
import { getImagePixelsRequest, imagePixels, openImageRequest, openImageResponse, releaseImageRequest, releaseImageResponse } from './schemas/images.ts';
import { cancelJobRequest, cancelJobResponse, jobInfo, jobStatusRequest, runToolRequest, runToolResponse } from './schemas/jobs.ts';
import { listPacksRequest, listPacksResponse } from './schemas/packs.ts';
import {
  cancelPullRequest, cancelPullResponse, describeHubRepoRequest, getHubSettingsRequest, hubRepoSummary, hubSettings, removePackRequest, removePackResponse,
  setHubSettingsRequest, startPullRequest, startPullResponse, verifyPackRequest, verifyPackResponse,
} from './schemas/models.ts';

// Named, not `export *`: `side` is shared between the areas only, not a name of the contract.
export { bytes, errorCode, errorInfo, executionProvider, filePath, imageId, jobId, MAX_IMAGE_SIDE, packName, resultOf } from './schemas/common.ts';
export type { ErrorCode, ErrorInfo, ExecutionProvider } from './schemas/common.ts';
export * from './schemas/app.ts';
export * from './schemas/packs.ts';
export * from './schemas/images.ts';
export * from './schemas/jobs.ts';
export * from './schemas/files.ts';
export * from './schemas/batch.ts';
export * from './schemas/autosave.ts';
export * from './schemas/events.ts';
export * from './schemas/models.ts';

/** Request and response schema of every channel: the single source the wrappers validate with. */
export const SCHEMAS = {
  getAppInfo: { request: getAppInfoRequest, response: appInfo },
  listPacks: { request: listPacksRequest, response: listPacksResponse },
  openImage: { request: openImageRequest, response: openImageResponse },
  getImagePixels: { request: getImagePixelsRequest, response: imagePixels },
  releaseImage: { request: releaseImageRequest, response: releaseImageResponse },
  runTool: { request: runToolRequest, response: runToolResponse },
  cancelJob: { request: cancelJobRequest, response: cancelJobResponse },
  jobStatus: { request: jobStatusRequest, response: jobInfo },
  saveImage: { request: saveImageRequest, response: saveImageResponse },
  encodeImage: { request: encodeImageRequest, response: encodeImageResponse },
  pickOpenPath: { request: pickOpenPathRequest, response: pickPathResponse },
  pickSavePath: { request: pickSavePathRequest, response: pickPathResponse },
  startBatch: { request: startBatchRequest, response: startBatchResponse },
  pauseBatch: { request: batchControlRequest, response: batchControlResponse },
  resumeBatch: { request: batchControlRequest, response: batchControlResponse },
  cancelBatch: { request: batchControlRequest, response: batchControlResponse },
  writeAutosave: { request: writeAutosaveRequest, response: writeAutosaveResponse },
  readAutosave: { request: readAutosaveRequest, response: readAutosaveResponse },
  clearAutosave: { request: clearAutosaveRequest, response: clearAutosaveResponse },
  ...PERSONAL_SCHEMAS,
  describeHubRepo: { request: describeHubRepoRequest, response: hubRepoSummary },
  startPull: { request: startPullRequest, response: startPullResponse },
  cancelPull: { request: cancelPullRequest, response: cancelPullResponse },
  removePack: { request: removePackRequest, response: removePackResponse },
  verifyPack: { request: verifyPackRequest, response: verifyPackResponse },
  getHubSettings: { request: getHubSettingsRequest, response: hubSettings },
  setHubSettings: { request: setHubSettingsRequest, response: hubSettings },
} as const satisfies Record<ChannelName, { request: z.ZodType; response: z.ZodType }>;

/** What the caller passes (defaults not yet applied). */
export type RequestOf<C extends ChannelName> = z.input<(typeof SCHEMAS)[C]['request']>;
/** What a handler receives after validation (defaults applied). */
export type ParsedRequestOf<C extends ChannelName> = z.output<(typeof SCHEMAS)[C]['request']>;
export type ResponseOf<C extends ChannelName> = z.output<(typeof SCHEMAS)[C]['response']>;
