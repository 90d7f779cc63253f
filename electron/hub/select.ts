/**
 * Which files of a repository make the pack, and whether its licence needs the user's yes.
 *
 * A diffusers ONNX repository often also holds PyTorch weights, other precisions and sample
 * images: only the files the engine reads are taken. Default: model_index.json and the
 * files directly inside the component folders import knows (electron/engine/diffusers/import.ts),
 * less other weight formats. ONNX precision variants are named `<name>.fp16.onnx` beside
 * `<name>.onnx`; the chosen one is saved as `<name>.onnx` (the external data keeps its name, which
 * the graph refers to). A CoDi SD export's codi_adapter/ comes with it. `--include` globs replace
 * the default choice.
 */
import path from 'node:path';
import { CODI_ADAPTER_DIR, CODI_ADAPTER_JSON } from '../engine/diffusers/codi-adapter.ts';
import { HubError } from './types.ts';
import type { HubFile, Precision, RepoInfo } from './types.ts';

/**
 * The components the engine loads. `codi_adapter/` is taken too when the repository is a CoDi SD
 * export (it holds codi_adapter.json): pullPack then installs it as backbone + adapter packs.
 */
export const COMPONENTS = ['unet', 'controlnet', 'text_encoder', 'tokenizer', 'scheduler', 'vae_encoder', 'vae_decoder', 'vae_decoder_tiny'] as const;

/** Weights the ONNX engine cannot use (PyTorch, Flax, TF, GGUF, CoreML) and documentation. */
const NOT_ONNX = /\.(safetensors|bin|ckpt|pt|pth|msgpack|h5|gguf|ot|mlmodel|mlpackage|md|png|jpe?g|webp|gif)$/i;
const VARIANT = /\.(fp16|fp32)(?=\.onnx$)/;

/** Small root files kept with the pack for the user: the model card and the licence text. */
const ROOT_EXTRAS = /^(README\.md|LICEN[CS]E(\.(md|txt))?|COPYING(\.(md|txt))?)$/i;
const MAX_EXTRA_BYTES = 1 << 20;

export interface PlannedFile extends HubFile {
  /** Where the file goes in the pack (differs from `path` for a renamed precision variant). */
  local: string;
  /** A root extra (model card, licence text): kept beside the pack, not part of its manifest. */
  extra: boolean;
}

/** Glob → RegExp: `**` any depth, `*` within a segment, `?` one character. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const isWeights = (p: string) => !/\.(json|txt)$/i.test(p);

/** Choose the files a diffusers ONNX pack needs; refuses a repository that cannot be one. */
export function planPackFiles(info: RepoInfo, options: { include?: string[]; precision?: Precision } = {}): PlannedFile[] {
  const extras = info.files.filter((f) => ROOT_EXTRAS.test(f.path) && f.size <= MAX_EXTRA_BYTES).map((f) => ({ ...f, local: f.path, extra: true }));
  let chosen: PlannedFile[];
  if (options.include && options.include.length > 0) {
    const globs = options.include.map(globRegExp);
    chosen = info.files.filter((f) => f.path === 'model_index.json' || globs.some((g) => g.test(f.path))).map((f) => ({ ...f, local: f.path, extra: false }));
  } else {
    chosen = [];
    const index = info.files.find((f) => f.path === 'model_index.json');
    if (index) chosen.push({ ...index, local: index.path, extra: false });
    const codi = info.files.some((f) => f.path === CODI_ADAPTER_JSON);
    for (const comp of codi ? [...COMPONENTS, CODI_ADAPTER_DIR] : COMPONENTS) {
      const inDir = info.files.filter((f) => path.posix.dirname(f.path) === comp && !NOT_ONNX.test(f.path));
      const variants = inDir.filter((f) => VARIANT.exec(f.path)?.[1] === 'fp16' || /[._-]fp16[._]/.test(path.posix.basename(f.path)));
      const wantVariant = options.precision === 'fp16' && variants.some((f) => f.path.endsWith('.onnx'));
      for (const f of inDir) {
        const isVariant = variants.includes(f);
        // fp16 chosen: this component's fp16 files and its configs; fp32: everything but the fp16 files.
        if (wantVariant ? !isVariant && isWeights(f.path) : isVariant) continue;
        chosen.push({ ...f, local: f.path.replace(VARIANT, ''), extra: false });
      }
    }
  }
  const locals = new Set<string>();
  for (const f of chosen) {
    if (locals.has(f.local)) throw new HubError('not-a-pack', `"${info.repo}" has two files that would both be ${f.local}; pick one with --include`);
    locals.add(f.local);
  }
  const has = (p: string) => locals.has(p);
  const controlnet = has('controlnet/model.onnx') && !has('unet/model.onnx');
  if (!controlnet && !(has('model_index.json') && has('unet/model.onnx'))) {
    const torch = info.files.some((f) => /\.(safetensors|bin|ckpt)$/i.test(f.path));
    throw new HubError(
      'not-a-pack',
      `"${info.repo}" is not a diffusers ONNX pack (no ${has('model_index.json') ? 'unet/model.onnx' : 'model_index.json'} among the chosen files)` +
        (torch ? '; it holds PyTorch weights, which must be converted to ONNX first (see electron/engine/diffusers/README.md)' : ''),
    );
  }
  return [...chosen, ...extras.filter((e) => !locals.has(e.local))];
}

/** Licences that grant use without conditions a user must agree to (SPDX ids as the Hub spells them). */
const PERMISSIVE = new Set(['apache-2.0', 'mit', 'bsd', 'bsd-2-clause', 'bsd-3-clause', 'bsd-3-clause-clear', 'isc', 'zlib', 'unlicense', 'cc0-1.0', 'cc-by-2.0', 'cc-by-3.0', 'cc-by-4.0', 'bsl-1.0', 'mpl-2.0', 'postgresql', 'wtfpl', 'afl-3.0', 'ecl-2.0', 'artistic-2.0', 'ncsa']);

/**
 * Why the user must accept before downloading, or null: a gated repository, a licence with use
 * restrictions (OpenRAIL, non-commercial, "other"…), or no declared licence at all.
 */
export function licenceNeedsAcceptance(info: Pick<RepoInfo, 'licence' | 'gated'>): string | null {
  if (info.gated) return `the repository is gated (${info.gated === 'manual' ? 'its authors grant access' : 'access is granted on request'}) and its licence is ${info.licence ?? 'not declared'}`;
  if (info.licence === null) return 'the repository declares no licence';
  if (!PERMISSIVE.has(info.licence.toLowerCase())) return `its licence, ${info.licence}, sets conditions on use`;
  return null;
}
