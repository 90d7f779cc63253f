/**
 * The open document and its undo history, mirrored into small reactive values: the document
 * is a plain class, so `version` is what makes templates update after a result or an undo.
 */
import type { ImageDocument } from '../editor/document.ts';
import { History } from '../editor/history.ts';

export interface DocInfo {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly hasBefore: boolean;
}

export interface DocumentHooks {
  /** After every push, undo, redo or clear. */
  historyChanged(): void;
  /** After the open document changed itself (a result, or undoing one). */
  docChanged(): void;
}

export class DocumentState {
  readonly history = new History();
  readonly #hooks: DocumentHooks;
  #unsubDoc: (() => void) | null = null;

  doc = $state.raw<ImageDocument | null>(null);
  version = $state(0);
  canUndo = $state(false);
  canRedo = $state(false);
  undoLabel = $state<string | null>(null);
  redoLabel = $state<string | null>(null);
  historyUsed = $state(0);
  historyLimit = $state(0);

  constructor(hooks: DocumentHooks) {
    this.#hooks = hooks;
    this.historyLimit = this.history.maxBytes;
    this.history.subscribe(() => {
      this.#syncHistory();
      this.#hooks.historyChanged();
    });
  }

  get info(): DocInfo | null {
    void this.version;
    const d = this.doc;
    return d ? { name: d.name, width: d.width, height: d.height, hasBefore: d.before !== null } : null;
  }

  /** Open `doc` in place of the current one, with an empty history. */
  replace(doc: ImageDocument): void {
    this.history.clear();
    this.#unsubDoc?.();
    this.doc = doc;
    this.version++;
    this.#unsubDoc = doc.subscribe(() => {
      this.version++;
      this.#hooks.docChanged();
    });
  }

  undo(): void {
    this.history.undo();
  }

  redo(): void {
    this.history.redo();
  }

  #syncHistory(): void {
    this.historyUsed = this.history.budget.used;
    this.historyLimit = this.history.budget.limit;
    this.canUndo = this.history.canUndo;
    this.canRedo = this.history.canRedo;
    this.undoLabel = this.history.undoLabel;
    this.redoLabel = this.history.redoLabel;
  }
}
