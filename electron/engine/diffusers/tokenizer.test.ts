import { describe, it, expect } from 'vitest';
import { tinyClipVocab } from '../../../tests/fixtures-gen/diffusers-tiny.ts';
import { ClipTokenizer } from './tokenizer.ts';

const { vocab, merges } = tinyClipVocab();
const files = { vocab, merges: ['#version: 0.2', ...merges].join('\n'), tokenizerConfig: { model_max_length: 77, bos_token: { content: '<|startoftext|>' }, pad_token: '<|endoftext|>' } };

describe('ClipTokenizer (tiny vocab, slow-tokenizer files)', () => {
  const tok = ClipTokenizer.fromFiles(files);

  it('lower-cases, collapses spaces, splits punctuation and ends words with </w>', () => {
    expect(tok.tokenize('A  photo of a CAT, please!')).toEqual(['a</w>', 'photo</w>', 'of</w>', 'a</w>', 'cat</w>', ',</w>', 'p', 'l', 'e', 'a', 's', 'e</w>', '!</w>']);
  });

  it('pads to 77 with bos, eos and the pad id from the config', () => {
    const e = tok.encode('a cat');
    expect(e.ids.length).toBe(77);
    expect(e.length).toBe(4);
    expect(e.ids[0]).toBe(vocab['<|startoftext|>']);
    expect(e.ids[1]).toBe(vocab['a</w>']);
    expect(e.ids[2]).toBe(vocab['cat</w>']);
    expect(e.ids[3]).toBe(vocab['<|endoftext|>']);
    expect(e.ids[76]).toBe(vocab['<|endoftext|>']);
    expect(tok.decode(e.ids)).toBe('a cat');
  });

  it('truncates long prompts and keeps eos last', () => {
    const e = tok.encode('cat '.repeat(200));
    expect(e.length).toBe(77);
    expect(e.ids[76]).toBe(tok.eosId);
    expect(e.ids[75]).toBe(vocab['cat</w>']);
  });

  it('uses a pad token other than eos when the pack says so (SD 2.x pads with "!")', () => {
    const t2 = ClipTokenizer.fromFiles({ ...files, tokenizerConfig: { ...files.tokenizerConfig, pad_token: '!' } });
    expect(t2.encode('a').ids[10]).toBe(vocab['!']);
  });

  it('refuses a folder without vocabulary files', () => {
    expect(() => ClipTokenizer.fromFiles({})).toThrow(/vocab/);
  });
});
