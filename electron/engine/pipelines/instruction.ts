/**
 * A native pack's instruction text → the embedding its graphs take, from the pack's table.
 * An unknown instruction is refused with the ones the pack knows.
 */
import { instructionFeatures, matchInstruction } from '../../../core/text/instruction-features.ts';
import { JobError } from '../jobs/queue.ts';
import { normalizeInstruction } from '../packs/registry.ts';
import type { InstructionTable } from '../packs/registry.ts';
import type { PipelineInput } from './types.ts';

/** The embedding [D] of the request's instruction, or null when the pack takes no text. */
export function instructionEmbedding(p: PipelineInput, notes: string[]): Float32Array | null {
  const dim = p.model.manifest.textEmbeddingDim;
  if (dim === 0) return null;
  const prompt = p.request.prompt?.trim();
  if (!prompt) throw new JobError('invalid-request', `the ${p.request.tool} tool of "${p.model.manifest.name}" needs an instruction`);
  const table = p.model.instructions;
  if (!table) throw new JobError('pack-invalid', `pack "${p.model.manifest.name}" takes text but ships no instruction table`);
  if (table.featurizer) {
    // Any wording is embedded; one far from every trained wording is refused with the nearest ones,
    // rather than running the model on an instruction it never learned.
    const match = matchInstruction(prompt, table.featurizer.known);
    if (!match.known) {
      const nearest = match.nearest.map((n) => `"${n.text}"`).join(', ');
      throw new JobError('invalid-request', `"${prompt}" is far from anything this pack was trained on (similarity ${match.similarity.toFixed(2)}); the nearest instructions it knows: ${nearest}`);
    }
    notes.push(`instruction "${prompt}" read as "${match.nearest[0]?.text}" (${match.nearest[0]?.edit}, similarity ${match.similarity.toFixed(2)})`);
    return instructionFeatures(prompt, table.dim);
  }
  const emb = table.entries.get(normalizeInstruction(prompt));
  if (!emb) {
    const known = [...table.entries.keys()];
    const list = known.slice(0, 12).map((k) => `"${k}"`).join(', ');
    throw new JobError('invalid-request', `unknown instruction "${prompt}"; this pack knows ${known.length}: ${list}${known.length > 12 ? ', …' : ''}`);
  }
  notes.push(`instruction: "${normalizeInstruction(prompt)}"`);
  return emb;
}

/**
 * The edit the request's instruction was read as, when the pack lists it as achromatic (every
 * training target grey, e.g. "black and white"); null otherwise. The caller makes the result grey.
 */
export function achromaticEdit(p: PipelineInput): string | null {
  return achromaticEditOf(p.model.instructions, p.request.prompt);
}

/** {@link achromaticEdit} for a table and an instruction text (the eval harness runs edits without a request). */
export function achromaticEditOf(table: InstructionTable | null, prompt: string | undefined): string | null {
  const text = prompt?.trim();
  if (!table?.featurizer || !text || table.featurizer.achromatic.size === 0) return null;
  const match = matchInstruction(text, table.featurizer.known);
  const edit = match.known ? match.nearest[0]?.edit : undefined;
  return edit !== undefined && table.featurizer.achromatic.has(edit) ? edit : null;
}
