// Lint = the dependency direction of ARCHITECTURE.md, enforced. Each block names a folder
// and what it must never import; CI fails on a violation. Svelte components get the same
// rules as the renderer's .ts files. A few type-aware rules catch promise and cast mistakes
// that the compiler lets through.
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'url', 'stream', 'http', 'net'];
const restrict = (patterns) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'renderer/dist/**', 'bench/results/**', '.cache/**'] },
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        // Types come from the tsconfig that includes each file (node project, core, renderer).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A promise nobody awaits loses its error; one passed where a plain callback is expected
      // (an event handler, a forEach) runs unawaited too; awaiting a non-promise hides a bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A cast the compiler does not need hides the type the value really has.
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
    },
  },
  {
    files: ['**/*.svelte'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    // Rune modules are plain TypeScript. Through the Svelte parser each one rebuilt the type
    // program (25 files: 20 s of CPU instead of 10), for Svelte rules that found nothing there.
    files: ['**/*.svelte.ts'],
    languageOptions: { parser: tseslint.parser },
  },
  {
    // Plain JavaScript (this file, bin/*.mjs) is in no tsconfig: no type-aware rules there.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['core/**/*.ts'],
    ignores: ['core/**/*.test.ts'],
    rules: restrict([
      { group: nodeBuiltins, message: 'core/ is pure TypeScript: no node: imports.' },
      { group: ['electron', 'electron/*', 'onnxruntime-*', '@tensorflow/*', 'sharp', 'ws'], message: 'core/ must not import runtimes.' },
      { group: ['**/electron/**', '**/renderer/**', '**/training/**'], message: 'core/ imports nothing else in the repo.' },
    ]),
  },
  {
    files: ['training/**/*.ts'],
    rules: restrict([
      { group: ['electron', 'electron/*', '**/electron/**', '**/renderer/**'], message: 'training/ uses core and TensorFlow.js only.' },
    ]),
  },
  {
    files: ['electron/**/*.ts'],
    rules: restrict([
      { group: ['@tensorflow/*', '**/training/**', '**/renderer/**'], message: 'electron/ must not import training or renderer code.' },
    ]),
  },
  {
    files: ['electron/**/*.ts'],
    ignores: ['electron/engine/ort.ts', 'electron/**/*.test.ts'],
    rules: restrict([
      { group: ['onnxruntime-node', 'onnxruntime-*'], message: 'Only electron/engine/ort.ts imports onnxruntime-node.' },
      { group: ['@tensorflow/*', '**/training/**', '**/renderer/**'], message: 'electron/ must not import training or renderer code.' },
    ]),
  },
  {
    // The app ships no Python: the PyTorch trainer (training/torch) is reached only from the
    // `codi train` CLI. electron/ and renderer/ never name a Python interpreter or CODI_PYTHON.
    files: ['electron/**/*.ts', 'renderer/**/*.ts', 'renderer/**/*.svelte'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'Literal[value=/\\bpython[0-9.]*\\b|CODI_PYTHON|codi_torch/i]', message: 'electron/ and renderer/ must not depend on Python (training/torch is CLI-only).' },
        { selector: 'TemplateElement[value.raw=/\\bpython[0-9.]*\\b|CODI_PYTHON|codi_torch/i]', message: 'electron/ and renderer/ must not depend on Python (training/torch is CLI-only).' },
        { selector: 'MemberExpression[property.name="CODI_PYTHON"]', message: 'electron/ and renderer/ must not depend on Python (training/torch is CLI-only).' },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    ignores: ['renderer/vite.config.ts', 'renderer/**/*.test.ts'],
    rules: restrict([
      { group: nodeBuiltins, message: 'renderer/ runs in the browser sandbox: no node imports.' },
      { regex: '^(electron|onnxruntime-.*|@tensorflow/.*|sharp)(/.*)?$', message: 'renderer/ never imports runtimes.' },
      { group: ['**/training/**', '**/electron/engine/**', '**/electron/main/**', '**/electron/web/**', '**/electron/broker/**', '**/electron/preload/**'], message: 'renderer/ talks to the engine only through electron/contract.' },
      // The one value the renderer takes from the contract is its channel table (channels.ts: plain
      // data, no imports), so a channel is declared once; zod schemas and Node code stay out of the bundle.
      {
        group: ['**/electron/contract/**', '!**/electron/contract/channels.ts'],
        allowTypeImports: true,
        message: 'renderer/ may only `import type` from electron/contract (values: channels.ts only).',
      },
    ]),
  },
  {
    files: ['renderer/**/*.test.ts'],
    rules: restrict([{ group: nodeBuiltins, message: 'renderer tests run the browser code: no node imports.' }]),
  },
);
