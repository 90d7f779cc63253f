/**
 * The one path every message to the user takes (the status line / toast): modules report
 * here instead of each writing its own notice, so wording and kinds stay in one place.
 */
import type { ErrorInfo } from '../engine-client/index.ts';

/** What the status line / toast shows. */
export interface Notice {
  readonly kind: 'info' | 'error';
  readonly text: string;
}

/** An engine error in the user's words; `what` completes "could not …". */
export function describeError(e: ErrorInfo, what: string): string {
  switch (e.code) {
    case 'engine-crashed':
      return `The engine stopped unexpectedly and could not ${what}. It restarts by itself; please try again.`;
    case 'engine-unavailable':
      return `The engine is not available right now (${e.message}). Wait until it is ready, then try again.`;
    default:
      return `Could not ${what}: ${e.message}`;
  }
}

export class Notices {
  // Private with a getter: reporting goes through the methods below, never by assignment.
  #current = $state.raw<Notice | null>(null);

  /** The notice on show, if any. */
  get current(): Notice | null {
    return this.#current;
  }

  info(text: string): void {
    this.#current = { kind: 'info', text };
  }

  error(text: string): void {
    this.#current = { kind: 'error', text };
  }

  /** An engine request failed while trying to `what`. */
  failed(e: ErrorInfo, what: string): void {
    this.error(describeError(e, what));
  }

  clear(): void {
    this.#current = null;
  }
}
