/** Model packs: the list the engine found, with what each measured. */
import { z } from 'zod';
import { packTask } from '../../../core/packs/manifest.ts';
import { executionProvider, packName } from './common.ts';

export const listPacksRequest = z
  .object({
    /** Re-read the pack folders first (a personal adapter was just trained or imported). */
    rescan: z.boolean().optional(),
  })
  .strict();
export const packInfo = z.object({
  name: packName,
  title: z.string(),
  version: z.string(),
  task: packTask,
  method: z.string(),
  /** Where it was found. */
  source: z.enum(['bundled', 'user']),
  steps: z.object({ default: z.number().int().min(1), max: z.number().int().min(1) }),
  /** Start temperature τ of its sampler (core/samplers/start.ts); absent = 1. At τ = 0 one step gives the same result for every seed. */
  startTemperature: z.number().min(0).max(1).optional(),
  upscale: z.number().int().min(1),
  /** True when the tool takes an instruction/prompt. */
  takesText: z.boolean(),
  /** Known instructions from the pack's instruction table (edit packs), if any. */
  instructions: z.array(z.string()).max(4096),
  /** 'ok' = usable; 'invalid' = refused by verification (see problem). */
  status: z.enum(['ok', 'invalid']),
  problem: z.string().optional(),
  /** For adapter packs: the backbone pack they need. */
  backbone: z.string().optional(),
  /** Bytes of the files its manifest lists (what removing it frees). */
  bytes: z.number().int().nonnegative().optional(),
  /** A pack pulled from the Hub: the repo, the revision fetched and the licence the user accepted. */
  origin: z.object({ repo: z.string().max(200), revision: z.string().max(200), licence: z.string().max(200).nullable() }).optional(),
  /** Held-out PSNR per step count and of the unchanged input, from the manifest (core/packs/measured-steps.ts). */
  measured: z
    .object({
      steps: z.array(z.object({ steps: z.number().int().min(1), psnrDb: z.number() })).max(64),
      inputPsnrDb: z.number().optional(),
    })
    .optional(),
});
export type PackInfo = z.infer<typeof packInfo>;
export const listPacksResponse = z.object({
  packs: z.array(packInfo),
  /** The execution provider the engine uses (after fallback), and the ones it tried. */
  provider: z.object({ active: executionProvider, tried: z.array(z.string()), note: z.string().optional() }),
});
export type ListPacksResponse = z.infer<typeof listPacksResponse>;
