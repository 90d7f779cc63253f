import { describe, it, expect } from 'vitest';
import type { KeyLike } from './shortcuts.ts';
import { matchShortcut, matchShortcutWhileTyping, shortcutKeys, SHORTCUTS } from './shortcuts.ts';

const key = (k: string, o: Partial<KeyLike> = {}): KeyLike => ({
  key: k, code: o.code ?? '', ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...o,
});

describe('shortcuts', () => {
  it('maps the Photoshop-style chords', () => {
    expect(matchShortcut(key('z', { ctrlKey: true }))).toBe('undo');
    expect(matchShortcut(key('Z', { ctrlKey: true, shiftKey: true }))).toBe('redo');
    expect(matchShortcut(key('z', { metaKey: true, shiftKey: true }))).toBe('redo');
    expect(matchShortcut(key('y', { ctrlKey: true }))).toBe('redo');
    expect(matchShortcut(key('0', { ctrlKey: true, code: 'Digit0' }))).toBe('fit');
    expect(matchShortcut(key('1', { metaKey: true, code: 'Digit1' }))).toBe('actualSize');
    expect(matchShortcut(key('[', { code: 'BracketLeft' }))).toBe('sizeDown');
    expect(matchShortcut(key('{', { code: 'BracketLeft', shiftKey: true }))).toBe('hardnessDown');
    expect(matchShortcut(key('}', { code: 'BracketRight', shiftKey: true }))).toBe('hardnessUp');
    expect(matchShortcut(key('?', { shiftKey: true }))).toBe('help');
    expect(matchShortcut(key('+', { ctrlKey: true, shiftKey: true }))).toBe('zoomIn');
    expect(matchShortcut(key('Escape'))).toBe('cancel');
    expect(matchShortcut(key('b'))).toBe('brush');
  });

  it('does not fire plain-letter tools with modifiers, nor unknown keys', () => {
    expect(matchShortcut(key('b', { ctrlKey: true }))).toBeNull();
    expect(matchShortcut(key('z'))).toBeNull();
    expect(matchShortcut(key('z', { ctrlKey: true, altKey: true }))).toBeNull();
    expect(matchShortcut(key('q'))).toBeNull();
  });

  it('formats chords per platform and every action has a label and a chord', () => {
    expect(shortcutKeys('redo', false)).toBe('Ctrl+Shift+Z / Ctrl+Y');
    expect(shortcutKeys('redo', true)).toBe('⌘⇧Z / ⌘Y');
    expect(shortcutKeys('hardnessDown', false)).toBe('Shift+[');
    for (const s of SHORTCUTS) {
      expect(s.label.length).toBeGreaterThan(0);
      expect(s.chords.length).toBeGreaterThan(0);
    }
  });

  it('runs with Ctrl/⌘+Enter from the instruction field, where nothing else fires', () => {
    expect(matchShortcutWhileTyping(key('Enter', { ctrlKey: true }))).toBe('run');
    expect(matchShortcutWhileTyping(key('Enter', { metaKey: true }))).toBe('run');
    expect(matchShortcutWhileTyping(key('Enter', { ctrlKey: true, shiftKey: true }))).toBe('variations');
    // Typing letters, undo and plain Enter belong to the text field.
    expect(matchShortcutWhileTyping(key('b'))).toBeNull();
    expect(matchShortcutWhileTyping(key('h'))).toBeNull();
    expect(matchShortcutWhileTyping(key('z', { ctrlKey: true }))).toBeNull();
    expect(matchShortcutWhileTyping(key('Enter'))).toBeNull();
  });

  it('H shows or hides the mask overlay and the cheat-sheet lists it', () => {
    expect(matchShortcut(key('h'))).toBe('toggleMask');
    expect(matchShortcut(key('H', { shiftKey: true }))).toBeNull();
    expect(SHORTCUTS.find((s) => s.id === 'toggleMask')?.label).toMatch(/mask overlay/);
    expect(shortcutKeys('toggleMask', true)).toBe('H');
  });

  it('maps the mask, view and clipboard shortcuts and keeps every chord unique', () => {
    expect(matchShortcut(key('l'))).toBe('lasso');
    expect(matchShortcut(key('m'))).toBe('rectSelect');
    expect(matchShortcut(key('i', { ctrlKey: true }))).toBe('invertMask');
    expect(matchShortcut(key('g'))).toBe('loupe');
    expect(matchShortcut(key('c', { metaKey: true }))).toBe('copy');
    expect(matchShortcut(key('Enter', { ctrlKey: true, shiftKey: true }))).toBe('variations');
    expect(matchShortcut(key('Enter', { ctrlKey: true }))).toBe('run');
    expect(matchShortcut(key('|', { shiftKey: true, code: 'Backslash' }))).toBe('split');
    expect(matchShortcut(key('\\', { code: 'Backslash' }))).toBe('compare');
    expect(shortcutKeys('split', false)).toBe('Shift+\\');
    const seen = new Set<string>();
    for (const s of SHORTCUTS) {
      for (const c of s.chords) {
        const id = `${c.key.toLowerCase()}|${c.mod ?? false}|${c.shift ?? false}`;
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
    }
  });
});
