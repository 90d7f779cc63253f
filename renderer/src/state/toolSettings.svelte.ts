/**
 * The chosen tool and its settings (steps, instruction, seed, strength). Step counts follow
 * the one rule in core/packs/step-limit.ts; "does this tool take strength" is runRequest's.
 */
import type { PackInfo } from '../engine-client/index.ts';
import { allowedSteps, clampSteps } from '../../../core/packs/step-limit.ts';
import { defaultInstruction, defaultTool } from './toolDefaults.ts';
import { takesStrength } from './runRequest.ts';

export class ToolSettings {
  readonly #tools: () => PackInfo[];

  selectedPack = $state<string | null>(null);
  steps = $state(4);
  prompt = $state('');
  seed = $state(0);
  /** Blend of the result over the original, 0..1 (tasks where takesStrength). */
  strength = $state(1);

  constructor(tools: () => PackInfo[]) {
    this.#tools = tools;
  }

  get pack(): PackInfo | null {
    return this.#tools().find((p) => p.name === this.selectedPack) ?? null;
  }

  /** The step counts the step control offers: 1 … the pack's manifest limit, as codi run and the engine allow. */
  get stepChoices(): number[] {
    return allowedSteps(this.pack?.steps.max ?? 1);
  }

  /**
   * Upscale factors offered for the selected restore tool. Several restore tools may share a factor
   * (an upscaler for clean photos and a restorer for damaged ones): the selected tool answers for its
   * own factor, so its scale control never switches the user to the other tool.
   */
  get scaleChoices(): { scale: number; pack: string | null }[] {
    const restore = this.#tools().filter((p) => p.task === 'restore' && p.status === 'ok');
    const selected = restore.find((p) => p.name === this.selectedPack);
    return [1, 2, 4].map((s) => ({ scale: s, pack: (selected?.upscale === s ? selected : restore.find((p) => p.upscale === s))?.name ?? null }));
  }

  get needsMask(): boolean {
    return this.pack?.task === 'inpaint';
  }

  get takesStrength(): boolean {
    const p = this.pack;
    return p !== null && takesStrength(p.task);
  }

  /** Choose a tool: its default step count (within its limit) and, if none is typed, its default instruction. */
  select(name: string): boolean {
    const p = this.#tools().find((x) => x.name === name);
    if (!p) return false;
    this.selectedPack = name;
    this.steps = clampSteps(p.steps.default, p.steps.max);
    if (!this.prompt.trim()) this.prompt = defaultInstruction(p) ?? '';
    return true;
  }

  /** A step count from elsewhere (a restored session), kept within the selected pack's limit. */
  setSteps(n: number): void {
    this.steps = clampSteps(n, this.pack?.steps.max ?? n);
  }

  /** After a listing: keep the chosen tool if it is still installed, else start on the default one. */
  ensureSelected(): boolean {
    if (this.pack) return false;
    const first = defaultTool(this.#tools());
    return first ? this.select(first.name) : false;
  }
}
