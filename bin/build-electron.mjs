#!/usr/bin/env node
// Bundle the Electron entry points (TypeScript) into dist/electron/: main.cjs (package.json
// "main"), preload.cjs (sandboxed preload: a single script that only requires 'electron') and
// engine.cjs (the utility process; native modules stay external).
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'electron');
// import.meta.url does not exist in CommonJS; give each bundle its own file URL.
const banner = { js: "const __codi_import_meta_url = require('url').pathToFileURL(__filename).href;" };
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  define: { 'import.meta.url': '__codi_import_meta_url' },
  banner,
};

export async function buildElectron() {
  await Promise.all([
    build({ ...common, entryPoints: [path.join(root, 'electron/main/main.ts')], outfile: path.join(out, 'main.cjs'), external: ['electron'] }),
    build({ ...common, entryPoints: [path.join(root, 'electron/preload/preload.ts')], outfile: path.join(out, 'preload.cjs'), external: ['electron'], banner: {} , define: {} }),
    build({
      ...common,
      entryPoints: [path.join(root, 'electron/engine/main.ts')],
      outfile: path.join(out, 'engine.cjs'),
      external: ['electron', 'onnxruntime-node', 'sharp'],
    }),
  ]);
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildElectron();
  console.log(`built ${path.relative(root, out)}/{main,preload,engine}.cjs`);
}
