/**
 * What a Run sends to the engine, built in one place from the tool settings, so the panel
 * (which controls it shows) and the request (which fields it sends) cannot disagree.
 */
import type { PackInfo, RunToolRequest } from '../engine-client/index.ts';

/** Tasks whose result can be blended back over the input (the Strength slider). */
export function takesStrength(task: PackInfo['task']): boolean {
  return task === 'edit' || task === 'restore' || task === 'custom';
}

export interface RunSettings {
  readonly steps: number;
  readonly prompt: string;
  readonly strength: number;
  readonly seed: number;
  /** The inpaint mask (copied into the request: the user may paint on while the job runs). */
  readonly mask: { readonly width: number; readonly height: number; readonly data: Uint8Array };
  /** Engine id of a separately loaded depth map, if any. */
  readonly depthMapId: string | null;
}

/** The runTool request for `pack`; imageId is filled in by whoever knows the engine's id. */
export function buildRunRequest(pack: PackInfo, s: RunSettings): RunToolRequest {
  const req: RunToolRequest = {
    tool: pack.task === 'backbone' ? 'restore' : pack.task,
    pack: pack.name,
    imageId: '',
    steps: s.steps,
    seed: s.seed,
  };
  const prompt = s.prompt.trim();
  if (pack.takesText && prompt) req.prompt = prompt;
  if (pack.task === 'restore') req.scale = pack.upscale;
  if (pack.task === 'inpaint') req.mask = { width: s.mask.width, height: s.mask.height, data: s.mask.data.slice() };
  if (takesStrength(pack.task) && s.strength < 1) req.strength = s.strength;
  if (pack.task === 'depth' && s.depthMapId) req.condition = s.depthMapId;
  return req;
}
