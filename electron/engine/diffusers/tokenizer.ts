/**
 * The CLIP tokenizer of a pack, from the pack's own files, offline, on @huggingface/tokenizers
 * (the tokenizer half of transformers.js, no dependencies and no onnxruntime of its own).
 * That library reads the "fast" tokenizer.json format; Stable Diffusion exports usually ship
 * the "slow" files (vocab.json + merges.txt) instead, so when tokenizer.json is absent the
 * same pipeline CLIPTokenizerFast uses is described from them: NFC + whitespace collapse +
 * lower-case, CLIP's split regex, byte-level mapping, BPE with "</w>" word ends.
 */
import { Tokenizer } from '@huggingface/tokenizers';

/** The files of a pack's tokenizer/ folder, already read and verified. */
export interface TokenizerFiles {
  /** tokenizer.json (takes precedence when present). */
  tokenizerJson?: unknown;
  vocab?: Record<string, number>;
  merges?: string;
  tokenizerConfig?: Record<string, unknown>;
  specialTokensMap?: Record<string, unknown>;
}

/** CLIP's pre-tokenisation pattern (openai/CLIP simple_tokenizer.py). */
const CLIP_SPLIT = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** Token ids padded/truncated to the text encoder's fixed length. */
export interface ClipTokens {
  ids: Int32Array;
  /** Number of real tokens (bos … eos) before padding. */
  length: number;
}

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;

  private constructor(
    private readonly tok: Tokenizer,
    readonly maxLength: number,
    ids: { bos: number; eos: number; pad: number },
  ) {
    this.bosId = ids.bos;
    this.eosId = ids.eos;
    this.padId = ids.pad;
  }

  static fromFiles(files: TokenizerFiles, maxLength = 77): ClipTokenizer {
    const cfg = files.tokenizerConfig ?? {};
    const special = files.specialTokensMap ?? {};
    const pick = (k: string, dflt: string) => tokenContent(cfg[k]) ?? tokenContent(special[k]) ?? dflt;
    const bos = pick('bos_token', '<|startoftext|>');
    const eos = pick('eos_token', '<|endoftext|>');
    const pad = pick('pad_token', eos);
    const unk = pick('unk_token', eos);
    let json = files.tokenizerJson;
    if (json === undefined) {
      if (!files.vocab || files.merges === undefined) throw new Error('the tokenizer needs tokenizer.json or vocab.json + merges.txt');
      const merges = files.merges
        .split('\n')
        .map((l) => l.trimEnd())
        .filter((l) => l.length > 0 && !l.startsWith('#version'));
      const vocab = files.vocab;
      const added = [bos, eos]
        .filter((t, i, a) => a.indexOf(t) === i && vocab[t] !== undefined)
        .map((t) => ({ id: vocab[t]!, content: t, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }));
      json = {
        version: '1.0',
        added_tokens: added,
        normalizer: {
          type: 'Sequence',
          normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
        },
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: CLIP_SPLIT }, behavior: 'Removed', invert: true },
            { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
          ],
        },
        post_processor: { type: 'RobertaProcessing', sep: [eos, vocab[eos]], cls: [bos, vocab[bos]], trim_offsets: false, add_prefix_space: false },
        decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
        model: { type: 'BPE', dropout: null, unk_token: unk, continuing_subword_prefix: '', end_of_word_suffix: '</w>', fuse_unk: false, byte_fallback: false, vocab, merges },
      };
    }
    const tok = new Tokenizer(json as object, { ...cfg, bos_token: bos, eos_token: eos, pad_token: pad, unk_token: unk });
    const id = (t: string) => {
      const v = tok.token_to_id(t);
      if (v === undefined) throw new Error(`the tokenizer vocabulary has no "${t}"`);
      return v;
    };
    const configured = typeof cfg.model_max_length === 'number' && cfg.model_max_length <= 4096 ? cfg.model_max_length : maxLength;
    return new ClipTokenizer(tok, configured, { bos: id(bos), eos: id(eos), pad: id(pad) });
  }

  /** Token strings without specials (for tests and diagnostics). */
  tokenize(text: string): string[] {
    return this.tok.tokenize(text);
  }

  /** bos + tokens + eos, truncated to maxLength (eos kept) and padded with the pad id. */
  encode(text: string): ClipTokens {
    const inner = this.tok.encode(text, { add_special_tokens: false }).ids.slice(0, this.maxLength - 2);
    const ids = new Int32Array(this.maxLength).fill(this.padId);
    ids[0] = this.bosId;
    ids.set(inner, 1);
    ids[inner.length + 1] = this.eosId;
    return { ids, length: inner.length + 2 };
  }

  decode(ids: ArrayLike<number>): string {
    return this.tok.decode(Array.from(ids), { skip_special_tokens: true });
  }
}
