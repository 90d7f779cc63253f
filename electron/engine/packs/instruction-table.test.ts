import { describe, expect, it } from 'vitest';
import { INSTRUCTION_FEATURE_DIM, instructionFeatures, matchInstruction } from '../../../core/text/instruction-features.ts';
import { INSTRUCTION_FEATURIZER, parseInstructionTable } from './registry.ts';

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const known = [
  { text: 'make it dark', edit: 'dark' },
  { text: 'darken the photo', edit: 'dark' },
  { text: 'make it sunset', edit: 'sunset' },
];

describe('instruction tables', () => {
  it('featurizer tables embed any wording with the training featurizer', () => {
    const table = parseInstructionTable(enc({ featurizer: INSTRUCTION_FEATURIZER, dim: INSTRUCTION_FEATURE_DIM, known }), INSTRUCTION_FEATURE_DIM);
    expect(table.featurizer?.known).toHaveLength(3);
    expect(Array.from(table.entries.get('make it dark')!)).toEqual(Array.from(instructionFeatures('make it dark')));
    expect(matchInstruction('darker please', table.featurizer!.known).nearest[0]?.edit).toBe('dark');
  });

  it('refuses a featurizer it does not know, a width mismatch and empty tables', () => {
    expect(() => parseInstructionTable(enc({ featurizer: 'bert', dim: INSTRUCTION_FEATURE_DIM, known }), INSTRUCTION_FEATURE_DIM)).toThrow(/featurizer/);
    expect(() => parseInstructionTable(enc({ featurizer: INSTRUCTION_FEATURIZER, dim: 16, known }), 16)).toThrow(/gives 256/);
    expect(() => parseInstructionTable(enc({ featurizer: INSTRUCTION_FEATURIZER, dim: INSTRUCTION_FEATURE_DIM, known: [] }), INSTRUCTION_FEATURE_DIM)).toThrow(/no known/);
  });

  it('reads the achromatic edits, which must be among the known ones', () => {
    const table = parseInstructionTable(enc({ featurizer: INSTRUCTION_FEATURIZER, dim: INSTRUCTION_FEATURE_DIM, known, achromatic: ['dark'] }), INSTRUCTION_FEATURE_DIM);
    expect([...table.featurizer!.achromatic]).toEqual(['dark']);
    expect(parseInstructionTable(enc({ featurizer: INSTRUCTION_FEATURIZER, dim: INSTRUCTION_FEATURE_DIM, known }), INSTRUCTION_FEATURE_DIM).featurizer!.achromatic.size).toBe(0);
    expect(() => parseInstructionTable(enc({ featurizer: INSTRUCTION_FEATURIZER, dim: INSTRUCTION_FEATURE_DIM, known, achromatic: ['black_and_white'] }), INSTRUCTION_FEATURE_DIM)).toThrow(/achromatic/);
    expect(() => parseInstructionTable(enc({ featurizer: INSTRUCTION_FEATURIZER, dim: INSTRUCTION_FEATURE_DIM, known, achromatic: 'dark' }), INSTRUCTION_FEATURE_DIM)).toThrow(/achromatic/);
  });

  it('still reads exact-lookup tables', () => {
    const table = parseInstructionTable(enc({ dim: 2, instructions: [{ text: 'Make it dark.', embedding: [1, 0] }] }), 2);
    expect(table.featurizer).toBeUndefined();
    expect(Array.from(table.entries.get('make it dark')!)).toEqual([1, 0]);
  });
});
