/** The push channel: engine status and every job, batch, personal-training and pack-pull event as one tagged union. */
import { z } from 'zod';
import { personalProgress } from '../personal-schemas.ts';
import { batchProgress } from './batch.ts';
import { executionProvider } from './common.ts';
import { jobDone, jobFailed, jobProgress } from './jobs.ts';
import { pullProgress } from './models.ts';

export const engineState = z.enum(['starting', 'ready', 'restarting', 'crashed']);
export type EngineState = z.infer<typeof engineState>;
export const engineStatus = z.object({
  state: engineState,
  provider: executionProvider.optional(),
  message: z.string().optional(),
});
export type EngineStatus = z.infer<typeof engineStatus>;

export const codiEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job-progress'), progress: jobProgress }),
  z.object({ type: z.literal('job-done'), done: jobDone }),
  z.object({ type: z.literal('job-failed'), failed: jobFailed }),
  z.object({ type: z.literal('engine-status'), status: engineStatus }),
  z.object({ type: z.literal('batch-progress'), batch: batchProgress }),
  z.object({ type: z.literal('personal-progress'), personal: personalProgress }),
  z.object({ type: z.literal('pull-progress'), pull: pullProgress }),
]);
export type CodiEvent = z.infer<typeof codiEvent>;
