/** The subset of KeyboardEvent the matcher needs (tests pass plain objects). */
export interface KeyLike {
  readonly key: string;
  readonly code: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
}

export type ActionId =
  | 'open' | 'save' | 'undo' | 'redo' | 'fit' | 'actualSize' | 'zoomIn' | 'zoomOut'
  | 'run' | 'cancel' | 'brush' | 'eraser' | 'sizeDown' | 'sizeUp' | 'hardnessDown' | 'hardnessUp'
  | 'compare' | 'split' | 'clearMask' | 'invertMask' | 'toggleMask' | 'lasso' | 'rectSelect' | 'loupe' | 'copy' | 'variations' | 'help';

/** One chord: `mod` = Ctrl on Windows/Linux, Cmd on macOS. `key` compares KeyboardEvent.key case-insensitively. */
interface Chord {
  readonly key: string;
  readonly mod?: boolean;
  /** Default false. 'any' for characters whose Shift state depends on the layout (?, +). */
  readonly shift?: boolean | 'any';
  /** Extra code-based match for keys whose `key` changes with Shift or layout ([ → {). */
  readonly code?: string;
  /** Matched but not listed in the cheat-sheet (alternative keys). */
  readonly hidden?: boolean;
}

/** A shortcut entry as listed in the '?' cheat-sheet. */
export interface Shortcut {
  readonly id: ActionId;
  readonly label: string;
  readonly chords: readonly Chord[];
  /**
   * Also fires while the cursor is in a text field. Only chords no text field uses: Ctrl/⌘+Enter
   * in the instruction field is exactly where a user asks for the run.
   */
  readonly whileTyping?: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { id: 'open', label: 'Open image', chords: [{ key: 'o', mod: true }] },
  { id: 'save', label: 'Save result as…', chords: [{ key: 's', mod: true }] },
  { id: 'undo', label: 'Undo', chords: [{ key: 'z', mod: true }] },
  { id: 'redo', label: 'Redo', chords: [{ key: 'z', mod: true, shift: true }, { key: 'y', mod: true }] },
  { id: 'fit', label: 'Fit image in window', chords: [{ key: '0', mod: true, code: 'Digit0' }] },
  { id: 'actualSize', label: 'Actual pixels (100 %)', chords: [{ key: '1', mod: true, code: 'Digit1' }] },
  { id: 'zoomIn', label: 'Zoom in', chords: [{ key: '=', mod: true, code: 'Equal' }, { key: '+', mod: true, shift: 'any', hidden: true }] },
  { id: 'zoomOut', label: 'Zoom out', chords: [{ key: '-', mod: true, code: 'Minus' }] },
  { id: 'run', label: 'Run tool (also from the instruction field)', chords: [{ key: 'Enter', mod: true }], whileTyping: true },
  { id: 'variations', label: 'Run variations (several seeds)', chords: [{ key: 'Enter', mod: true, shift: true }], whileTyping: true },
  { id: 'cancel', label: 'Cancel job / stroke, close dialog', chords: [{ key: 'Escape' }] },
  { id: 'brush', label: 'Mask brush', chords: [{ key: 'b' }] },
  { id: 'eraser', label: 'Mask eraser', chords: [{ key: 'e' }] },
  { id: 'lasso', label: 'Lasso (Alt+drag subtracts)', chords: [{ key: 'l' }] },
  { id: 'rectSelect', label: 'Rectangle (Alt+drag subtracts)', chords: [{ key: 'm' }] },
  { id: 'sizeDown', label: 'Smaller brush', chords: [{ key: '[', code: 'BracketLeft' }] },
  { id: 'sizeUp', label: 'Larger brush', chords: [{ key: ']', code: 'BracketRight' }] },
  { id: 'hardnessDown', label: 'Softer brush', chords: [{ key: '{', shift: true, code: 'BracketLeft' }] },
  { id: 'hardnessUp', label: 'Harder brush', chords: [{ key: '}', shift: true, code: 'BracketRight' }] },
  { id: 'compare', label: 'Toggle before / after', chords: [{ key: '\\', code: 'Backslash' }] },
  { id: 'split', label: 'Split view before | after', chords: [{ key: '|', shift: true, code: 'Backslash' }] },
  { id: 'loupe', label: '100 % magnifier (loupe)', chords: [{ key: 'g' }] },
  { id: 'clearMask', label: 'Clear mask', chords: [{ key: 'Backspace', mod: true }, { key: 'Delete', mod: true, hidden: true }] },
  { id: 'invertMask', label: 'Invert mask', chords: [{ key: 'i', mod: true }] },
  { id: 'toggleMask', label: 'Show / hide the mask overlay (hidden after a run)', chords: [{ key: 'h' }] },
  { id: 'copy', label: 'Copy image to the clipboard', chords: [{ key: 'c', mod: true }] },
  { id: 'help', label: 'Keyboard shortcuts', chords: [{ key: '?', shift: 'any' }, { key: 'F1' }] },
];

/** Display-only entries for mouse gestures (not matched against key events). */
export const GESTURES: readonly { readonly label: string; readonly keys: string }[] = [
  { label: 'Pan', keys: 'Space + drag, or middle-button drag' },
  { label: 'Zoom about the cursor', keys: 'Mouse wheel' },
  { label: 'Paste an image from the clipboard', keys: 'Ctrl/⌘ + V' },
  { label: 'Open a file', keys: 'Drop it anywhere in the window' },
  { label: 'Pen pressure', keys: 'Used by the brush when the pen reports it' },
];

function chordMatches(c: Chord, e: KeyLike): boolean {
  const mod = e.ctrlKey || e.metaKey;
  if (!!c.mod !== mod || e.altKey) return false;
  const keyHit = e.key.toLowerCase() === c.key.toLowerCase();
  const codeHit = c.code !== undefined && e.code === c.code;
  if (!keyHit && !codeHit) return false;
  if (c.shift === 'any') return keyHit;
  return (c.shift ?? false) === e.shiftKey;
}

/** The action bound to a key event, or null (Shift is part of the chord: Mod+Shift+Z is redo, not undo). */
export function matchShortcut(e: KeyLike): ActionId | null {
  for (const s of SHORTCUTS) if (s.chords.some((c) => chordMatches(c, e))) return s.id;
  return null;
}

/** The action a key event fires while focus is in a text field (null for all but whileTyping ones). */
export function matchShortcutWhileTyping(e: KeyLike): ActionId | null {
  const id = matchShortcut(e);
  return id && SHORTCUTS.find((s) => s.id === id)?.whileTyping ? id : null;
}

/** Human-readable chord, e.g. "Ctrl+Shift+Z" or "⌘⇧Z". */
export function formatChord(c: Chord, mac: boolean): string {
  const names: Record<string, string> = { ' ': 'Space', Escape: 'Esc', Backspace: mac ? '⌫' : 'Backspace', Enter: mac ? '↩' : 'Enter' };
  const key = names[c.key] ?? (c.key.length === 1 ? c.key.toUpperCase() : c.key);
  // '{' is shown as Shift+[ since that is what the user presses on most layouts.
  const shown = c.key === '{' ? '[' : c.key === '}' ? ']' : c.key === '|' ? '\\' : key;
  const shift = c.shift === true;
  if (mac) return `${c.mod ? '⌘' : ''}${shift ? '⇧' : ''}${shown}`;
  const parts = [c.mod ? 'Ctrl' : '', shift ? 'Shift' : '', shown].filter(Boolean);
  return parts.join('+');
}

export function shortcutKeys(id: ActionId, mac: boolean): string {
  const s = SHORTCUTS.find((x) => x.id === id);
  return s ? s.chords.filter((c) => !c.hidden).map((c) => formatChord(c, mac)).join(' / ') : '';
}
