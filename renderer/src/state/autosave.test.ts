import { describe, it, expect } from 'vitest';
import { AUTOSAVE_INTERVAL_MS, autosaveIntervalFrom, parseSessionState } from './autosave.ts';

describe('autosave settings', () => {
  it('saves at least every 30 s; ?autosaveMs= may only shorten it (to no less than 1 s)', () => {
    expect(AUTOSAVE_INTERVAL_MS).toBe(30_000);
    expect(autosaveIntervalFrom('')).toBe(30_000);
    expect(autosaveIntervalFrom('?autosaveMs=2000')).toBe(2000);
    expect(autosaveIntervalFrom('?autosaveMs=10')).toBe(1000);
    expect(autosaveIntervalFrom('?autosaveMs=600000')).toBe(30_000);
    expect(autosaveIntervalFrom('?autosaveMs=abc')).toBe(30_000);
  });

  it('reads back its session state and ignores damaged state', () => {
    const st = { history: { undo: 'Brush stroke', redo: null }, tools: { pack: 'p', steps: 2, prompt: '', seed: 1, strength: 1, brushSize: 9, brushHardness: 0.5, brushOpacity: 1, brushMode: 'paint' } };
    expect(parseSessionState(JSON.stringify(st))).toEqual(st);
    expect(parseSessionState('{')).toBeNull();
    expect(parseSessionState('[]')).toBeNull();
  });
});
