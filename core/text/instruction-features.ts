/**
 * Instruction text → fixed-width feature vector for the edit adapters.
 *
 * Why hashed word + character-trigram features: the bundled edit packs are trained on a
 * few hundred phrasings, far too few to learn a tokenizer or word embeddings, and the
 * app must run offline with no vocabulary files. Trigrams make unseen paraphrases
 * ("turn it darker") land near the phrasings the adapter was trained on ("make it dark"),
 * and the adapter's own dense projection (text_proj, trained with the adapter) turns the
 * features into the embedding the network uses. The same function runs in training and
 * in the engine, so the features can never drift.
 */

export const INSTRUCTION_FEATURE_DIM = 256;

/** Lower-case, strip punctuation, collapse white space. */
export function normaliseInstruction(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9 ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Words that carry no edit meaning; dropping them keeps "make it X" and "X please" close. */
const STOP_WORDS = new Set(['a', 'an', 'the', 'it', 'this', 'that', 'photo', 'picture', 'image', 'please', 'make', 'turn', 'look', 'more', 'into', 'to', 'of', 'and', 'my', 'me', 'be', 'is', 'with', 'give', 'add', 'apply', 'some', 'bit', 'little', 'lot', 'so', 'can', 'you', 'let', 'lets', 'effect']);

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Signed feature hashing: colliding features cancel on average instead of adding up. */
function addHashed(out: Float32Array, key: string, weight: number): void {
  const h = fnv1a(key);
  out[h % out.length]! += (h & 0x80000000) !== 0 ? -weight : weight;
}

/**
 * Hashed features, L2-normalised. Content words weigh 0.6 and their trigrams share 1.5
 * (spread over the word), so a misspelling still shares most of its mass.
 * "more" is kept when it is the only word ("more contrast" → "contrast" would lose nothing,
 * but "more" alone must not map to the empty vector).
 */
export function instructionFeatures(text: string, dim = INSTRUCTION_FEATURE_DIM): Float32Array {
  const out = new Float32Array(dim);
  const all = normaliseInstruction(text).split(' ').filter((w) => w.length > 0);
  const content = all.filter((w) => !STOP_WORDS.has(w));
  const words = content.length > 0 ? content : all;
  for (const w of words) {
    addHashed(out, `w:${w}`, 0.6);
    const padded = `<${w}>`;
    const grams = Math.max(1, padded.length - 2);
    for (let i = 0; i + 3 <= padded.length; i++) {
      addHashed(out, `g:${padded.slice(i, i + 3)}`, 1.5 / grams);
    }
  }
  let norm = 0;
  for (const v of out) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < dim; i++) out[i]! /= norm;
  return out;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** One phrasing the model was trained on, and the edit it names. */
export interface KnownInstruction {
  text: string;
  edit: string;
}

export interface InstructionMatch {
  /** Whether the text is close enough to something the model was trained on to trust the result. */
  known: boolean;
  similarity: number;
  /** Best matches, one per edit, most similar first. */
  nearest: { text: string; edit: string; similarity: number }[];
}

/**
 * Threshold on cosine similarity to the nearest trained phrasing. Below it the UI and CLI say
 * the instruction is unfamiliar and suggest the nearest ones, instead of silently running a
 * model far outside what it learned.
 */
export const KNOWN_INSTRUCTION_THRESHOLD = 0.3;

/**
 * Width of the features used only to judge familiarity. The model's 256 inputs are fine for the
 * network (it learns around collisions), but as a similarity they let unrelated words collide:
 * "turn it into a spaceship" scored 0.51 against "make it foggy" at 256 and 0.04 at 4096, while
 * real paraphrases ("turn it darker" → "make it darker" 1.00, "warm it up" 0.90 → 0.88) kept
 * their scores.
 */
export const MATCH_FEATURE_DIM = 4096;

export function matchInstruction(text: string, known: readonly KnownInstruction[], k = 3): InstructionMatch {
  const f = instructionFeatures(text, MATCH_FEATURE_DIM);
  const bestPerEdit = new Map<string, { text: string; edit: string; similarity: number }>();
  for (const item of known) {
    const sim = cosine(f, instructionFeatures(item.text, MATCH_FEATURE_DIM));
    const prev = bestPerEdit.get(item.edit);
    if (!prev || sim > prev.similarity) bestPerEdit.set(item.edit, { text: item.text, edit: item.edit, similarity: sim });
  }
  const nearest = [...bestPerEdit.values()].sort((a, b) => b.similarity - a.similarity).slice(0, k);
  const similarity = nearest[0]?.similarity ?? 0;
  return { known: similarity >= KNOWN_INSTRUCTION_THRESHOLD, similarity, nearest };
}
