import { describe, expect, it } from 'vitest';
import { parseRepoSpec } from './repo.ts';
import { globRegExp, licenceNeedsAcceptance, planPackFiles } from './select.ts';
import type { RepoInfo } from './types.ts';

const lfs = (path: string, size = 1000) => ({ path, size, sha256: 'a'.repeat(64) });
const small = (path: string, size = 100) => ({ path, size, sha256: null });

/** A repository laid out like the Hub's ONNX Stable Diffusion exports, with the extras they carry. */
const repo = (extra: RepoInfo['files'] = []): RepoInfo => ({
  repo: 'someone/sd-onnx',
  revision: 'f'.repeat(40),
  licence: 'mit',
  gated: false,
  files: [
    small('.gitattributes'),
    small('README.md'),
    small('LICENSE'),
    small('model_index.json'),
    small('scheduler/scheduler_config.json'),
    small('tokenizer/vocab.json'),
    small('tokenizer/merges.txt'),
    lfs('text_encoder/model.onnx'),
    small('unet/config.json'),
    lfs('unet/model.onnx'),
    lfs('unet/model.onnx_data', 3_000_000_000),
    lfs('unet/diffusion_pytorch_model.safetensors'),
    lfs('unet/onnx/model_quantized.onnx'),
    lfs('vae_decoder/model.onnx'),
    lfs('vae_encoder/model.onnx'),
    lfs('safety_checker/model.onnx'),
    small('sample.png'),
    ...extra,
  ],
});

const locals = (info: RepoInfo, o?: Parameters<typeof planPackFiles>[1]) => planPackFiles(info, o).map((f) => (f.path === f.local ? f.path : `${f.path} -> ${f.local}`)).sort();

describe('planPackFiles', () => {
  it('takes model_index.json, the engine components and the card and licence, nothing else', () => {
    expect(locals(repo())).toEqual([
      'LICENSE',
      'README.md',
      'model_index.json',
      'scheduler/scheduler_config.json',
      'text_encoder/model.onnx',
      'tokenizer/merges.txt',
      'tokenizer/vocab.json',
      'unet/config.json',
      'unet/model.onnx',
      'unet/model.onnx_data',
      'vae_decoder/model.onnx',
      'vae_encoder/model.onnx',
    ]);
    const extras = planPackFiles(repo()).filter((f) => f.extra).map((f) => f.path);
    expect(extras.sort()).toEqual(['LICENSE', 'README.md']);
  });

  it('picks the fp16 variant with precision fp16 (saved under the plain graph name) and skips it otherwise', () => {
    const info = repo([lfs('unet/model.fp16.onnx'), lfs('unet/model.fp16.onnx_data', 1_500_000_000), lfs('vae_decoder/model.fp16.onnx')]);
    const fp32 = locals(info);
    expect(fp32.filter((p) => p.includes('fp16'))).toEqual([]);
    const fp16 = locals(info, { precision: 'fp16' });
    expect(fp16.filter((p) => p.startsWith('unet/') || p.startsWith('vae_decoder/'))).toEqual([
      'unet/config.json',
      'unet/model.fp16.onnx -> unet/model.onnx',
      'unet/model.fp16.onnx_data',
      'vae_decoder/model.fp16.onnx -> vae_decoder/model.onnx',
    ]);
    // Components without a variant keep their only weights.
    expect(fp16).toContain('text_encoder/model.onnx');
  });

  it('takes codi_adapter/ only from a CoDi SD export (one with codi_adapter.json), less other weight formats', () => {
    const adapter = [lfs('codi_adapter/model.onnx'), lfs('codi_adapter/model.onnx_data'), lfs('codi_adapter/adapter.safetensors')];
    expect(locals(repo(adapter)).filter((p) => p.startsWith('codi_adapter/'))).toEqual([]);
    expect(locals(repo([...adapter, small('codi_adapter/codi_adapter.json')])).filter((p) => p.startsWith('codi_adapter/'))).toEqual([
      'codi_adapter/codi_adapter.json',
      'codi_adapter/model.onnx',
      'codi_adapter/model.onnx_data',
    ]);
  });

  it('--include globs replace the default choice (model_index.json always comes)', () => {
    const info = repo();
    expect(locals(info, { include: ['unet/*', 'text_encoder/**'] }).filter((p) => !/README|LICENSE/.test(p))).toEqual([
      'model_index.json',
      'text_encoder/model.onnx',
      'unet/config.json',
      'unet/diffusion_pytorch_model.safetensors',
      'unet/model.onnx',
      'unet/model.onnx_data',
    ]);
    expect(globRegExp('**/*.onnx').test('unet/onnx/model_quantized.onnx')).toBe(true);
    expect(globRegExp('**/*.onnx').test('model.onnx')).toBe(true);
    expect(globRegExp('unet/*.json').test('unet/sub/config.json')).toBe(false);
    expect(globRegExp('a?c.txt').test('abc.txt')).toBe(true);
    expect(globRegExp('a.c').test('abc')).toBe(false);
  });

  it('refuses a repository that is not a diffusers ONNX pack, naming PyTorch weights when that is what it holds', () => {
    const torch: RepoInfo = { ...repo(), files: [small('model_index.json'), lfs('unet/diffusion_pytorch_model.safetensors'), small('unet/config.json')] };
    expect(() => planPackFiles(torch)).toThrow(/not a diffusers ONNX pack \(no unet\/model.onnx .*PyTorch weights, which must be converted/);
    expect(() => planPackFiles({ ...repo(), files: [lfs('model.onnx')] })).toThrow(/no model_index.json/);
    const controlnet: RepoInfo = { ...repo(), files: [small('controlnet/config.json'), lfs('controlnet/model.onnx')] };
    expect(locals(controlnet)).toEqual(['controlnet/config.json', 'controlnet/model.onnx']);
  });
});

describe('licenceNeedsAcceptance', () => {
  it('asks for gated repos, use-restricted licences and undeclared ones; not for permissive ones', () => {
    expect(licenceNeedsAcceptance({ licence: 'apache-2.0', gated: false })).toBeNull();
    expect(licenceNeedsAcceptance({ licence: 'MIT', gated: false })).toBeNull();
    expect(licenceNeedsAcceptance({ licence: 'creativeml-openrail-m', gated: false })).toMatch(/sets conditions on use/);
    expect(licenceNeedsAcceptance({ licence: 'openrail++', gated: false })).toMatch(/openrail\+\+/);
    expect(licenceNeedsAcceptance({ licence: 'cc-by-nc-4.0', gated: false })).not.toBeNull();
    expect(licenceNeedsAcceptance({ licence: null, gated: false })).toMatch(/declares no licence/);
    expect(licenceNeedsAcceptance({ licence: 'mit', gated: 'auto' })).toMatch(/gated/);
  });
});

describe('parseRepoSpec', () => {
  it('reads owner/name[@revision] and refuses anything that could make a strange URL', () => {
    expect(parseRepoSpec('stabilityai/sd-turbo')).toEqual({ repo: 'stabilityai/sd-turbo', revision: 'main' });
    expect(parseRepoSpec('a/b@refs/pr/3')).toEqual({ repo: 'a/b', revision: 'refs/pr/3' });
    for (const bad of ['sd-turbo', 'a/b/c', '../x', 'a/..', 'a/b@../../x', 'a/b@', 'a b/c', 'a/b?x=1', '/a/b']) expect(() => parseRepoSpec(bad), bad).toThrow();
  });
});
