/**
 * Undo/redo of commands. A command is pushed after it has been applied (the tool already
 * changed the pixels while the user painted); undo/redo replay it. Raster commands carry
 * their byte size, and the stack is capped by bytes (Blender image undo keeps a memory
 * limit for the same reason: a few full-image entries would otherwise exhaust RAM).
 */
export interface Command {
  /** Shown in the Edit menu / tooltips: "Undo Brush stroke". */
  readonly label: string;
  /** Memory held by this entry (pixel copies); 0 for cheap commands. */
  readonly bytes: number;
  undo(): void;
  redo(): void;
}

export interface HistoryOptions {
  /** Oldest entries are dropped beyond this many bytes (the newest entry is always kept). */
  readonly maxBytes?: number;
  readonly maxSteps?: number;
}

export const DEFAULT_HISTORY_BYTES = 512 * 1024 * 1024;
export const DEFAULT_HISTORY_STEPS = 200;

export class History {
  #undo: Command[] = [];
  #redo: Command[] = [];
  #listeners = new Set<() => void>();
  readonly maxBytes: number;
  readonly maxSteps: number;

  constructor(opts: HistoryOptions = {}) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_HISTORY_BYTES;
    this.maxSteps = opts.maxSteps ?? DEFAULT_HISTORY_STEPS;
  }

  get canUndo(): boolean {
    return this.#undo.length > 0;
  }

  get canRedo(): boolean {
    return this.#redo.length > 0;
  }

  get undoLabel(): string | null {
    return this.#undo.at(-1)?.label ?? null;
  }

  get redoLabel(): string | null {
    return this.#redo.at(-1)?.label ?? null;
  }

  get depth(): { undo: number; redo: number } {
    return { undo: this.#undo.length, redo: this.#redo.length };
  }

  /** Bytes held by both stacks. */
  get bytes(): number {
    let n = 0;
    for (const c of this.#undo) n += c.bytes;
    for (const c of this.#redo) n += c.bytes;
    return n;
  }

  /** Memory held by undo/redo against the limit, for the status bar. */
  get budget(): { used: number; limit: number } {
    return { used: this.bytes, limit: this.maxBytes };
  }

  /** Record an already-applied command. A new action makes the redo branch unreachable. */
  push(cmd: Command): void {
    this.#undo.push(cmd);
    this.#redo = [];
    this.#evict();
    this.#emit();
  }

  undo(): Command | null {
    const cmd = this.#undo.pop();
    if (!cmd) return null;
    cmd.undo();
    this.#redo.push(cmd);
    this.#emit();
    return cmd;
  }

  redo(): Command | null {
    const cmd = this.#redo.pop();
    if (!cmd) return null;
    cmd.redo();
    this.#undo.push(cmd);
    this.#emit();
    return cmd;
  }

  clear(): void {
    this.#undo = [];
    this.#redo = [];
    this.#emit();
  }

  /** Called after every change of the stacks; returns an unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #evict(): void {
    while (this.#undo.length > 1 && (this.#undo.length > this.maxSteps || this.bytes > this.maxBytes)) {
      this.#undo.shift();
    }
  }

  #emit(): void {
    for (const fn of this.#listeners) fn();
  }
}
