import { describe, expect, it } from 'vitest';
import { INSTRUCTION_FEATURE_DIM, instructionFeatures, matchInstruction, normaliseInstruction } from './instruction-features.ts';

const known = [
  { text: 'make it dark', edit: 'dark' },
  { text: 'darken the photo', edit: 'dark' },
  { text: 'make it sunset', edit: 'sunset' },
  { text: 'golden hour sunset light', edit: 'sunset' },
  { text: 'black and white', edit: 'black_and_white' },
  { text: 'make it monochrome', edit: 'black_and_white' },
  { text: 'make it foggy', edit: 'foggy' },
];

describe('instruction features', () => {
  it('are unit-length, deterministic and ignore case and punctuation', () => {
    const a = instructionFeatures('Make it DARK!');
    const b = instructionFeatures('make it dark');
    expect(a.length).toBe(INSTRUCTION_FEATURE_DIM);
    expect(Array.from(a)).toEqual(Array.from(b));
    const norm = Math.sqrt(a.reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 6);
    expect(normaliseInstruction('  Black-and-White, please ')).toBe('black and white please');
  });

  it('map an unseen paraphrase to the right edit', () => {
    const m = matchInstruction('darker please', known);
    expect(m.nearest[0]?.edit).toBe('dark');
    expect(m.known).toBe(true);
    expect(matchInstruction('sunset colours', known).nearest[0]?.edit).toBe('sunset');
    expect(matchInstruction('fog', known).nearest[0]?.edit).toBe('foggy');
  });

  it('flag instructions far from anything known and still suggest the nearest', () => {
    const m = matchInstruction('add a dragon in the sky', known);
    expect(m.known).toBe(false);
    expect(m.nearest.length).toBeGreaterThan(0);
    expect(m.similarity).toBeLessThan(0.3);
  });

  it('does not let hash collisions make an unrelated word familiar', () => {
    // at the model's 256 features "spaceship" collided with the fog wordings (similarity 0.51)
    const fog = ['make it foggy', 'add fog', 'misty atmosphere', 'make it hazy'].map((text) => ({ text, edit: 'foggy' }));
    const m = matchInstruction('turn it into a spaceship', [...known, ...fog]);
    expect(m.known).toBe(false);
    expect(m.similarity).toBeLessThan(0.3);
  });
});
